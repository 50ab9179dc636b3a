"""Faults an outside test found in the socket engine, each reproduced as it was found:
the recap race under a row lock, a fast flood, an escaped message at the length limit,
and handshakes while the shop's database is unreachable."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import time

import pytest
import sqlalchemy as sa
from flask import Flask

from psonlinechat import OnlineChat, get_state, testing
from psonlinechat.web import blueprint
from tests.support.chatclient import HOST, ChatShop, cookie_header
from tests.support.readingclient import ReadingClient
from tests.support.served import free_port

CHAT_SETTINGS = {"heartbeat_seconds": 5}  # the chat_shop of this module (tests/conftest.py)
LOG_KINDS = {"message", "ended", "reopened"}


def _lock_waits(conn: sa.Connection) -> int:
    """Transactions of ``conn``'s database waiting for a row lock now."""
    return conn.execute(sa.text(
        "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p"
        " ON p.ID = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()"
    )).scalar_one()


def _wait_for_a_lock_wait(engine: sa.Engine) -> None:
    with engine.connect() as watcher:
        for _ in range(50):
            if _lock_waits(watcher):
                return
            watcher.rollback()
            time.sleep(0.2)  # INNODB_TRX is refreshed only when not read for 0.1 s
    raise AssertionError("the operator's hello never waited for the row lock")


def _logged(events: list[dict], id_conversation: int) -> list[int]:
    """The seqs of ``id_conversation`` among ``events`` and the recap's, in arrival order."""
    seqs = []
    for event in events:
        if event.get("type") == "recap":
            for item in event["conversations"]:
                seqs += [e["seq"] for e in item["events"]
                         if e["id_conversation"] == id_conversation]
        elif event.get("type") in LOG_KINDS and event.get("id_conversation") == id_conversation:
            seqs.append(event["seq"])
    return seqs


def test_a_console_giving_last_seqs_never_gets_them_again_under_a_row_lock(shop):
    """The hello's write that registers the socket waits for the employee's row (held here
    FOR UPDATE); a message posted meanwhile reached the console as a new conversation,
    replayed from seq 1, before the recap, which then held seq 11 again."""
    cookies = shop.employee("lock@example.test")
    first = shop.operator(cookies)
    visitor = shop.visitor()
    id_conversation = visitor.say("message 1")["conversation"]["id_conversation"]
    for n in range(2, 11):
        assert visitor.say(f"message {n}")["seq"] == n
    first.expect("message", seq=10)
    o = shop.db.tables.operator
    with shop.db.engine.connect() as holder:
        holder.begin()
        holder.execute(sa.select(o).where(o.c.id_shop == shop.id_shop).with_for_update())
        console = shop.connect("operator", cookies)
        console.send("hello", last_seqs={str(id_conversation): 10})
        _wait_for_a_lock_wait(shop.db.engine)
        assert visitor.say("message 11")["seq"] == 11
        holder.rollback()
    console.expect("recap", timeout=10)
    console.send("ping")
    console.expect("pong")
    assert _logged(console.received, id_conversation) == [11]


def reading_client(shop: ChatShop) -> ReadingClient:
    """A visitor socket of ``shop`` that floods while it keeps reading."""
    return ReadingClient(HOST, shop.server.port, "/psonlinechat/ws/visitor",
                         origin=shop.origin, cookie=cookie_header(shop.anonymous()))


def test_a_fast_flood_is_rate_limited_then_closed_with_a_close_frame(shop, caplog):
    """10,000 pings back to back while the client keeps reading: refused frames were each
    answered for as long as they came, with no end (under gevent, the answers piled up
    past the unread limit and the connection was dropped with no close frame and nothing
    in the log: tests/serve/test_faults.py)."""
    client = reading_client(shop)
    try:
        with caplog.at_level(logging.WARNING):
            client.flood_and_read('{"type":"hello"}', '{"type":"ping"}', 10_000,
                                  until=10_001)
    finally:
        client.close()
    kinds = [(event["type"], event.get("code")) for event in client.received]
    assert ("pong", None) in kinds
    assert ("error", "rate_limited") in kinds
    assert client.close_code == 1008, (client.close_code, len(kinds))
    assert len(kinds) < 1000  # refused frames are answered until the close, not forever
    assert any("flooding" in r.getMessage() for r in caplog.records)


def test_a_client_that_reads_is_never_cut_for_the_answers_to_its_own_frames(mariadb):
    """Every frame answered (a high frame limit): a client that reads, slower than the
    answers are made, gets them all, and is not cut."""
    shop = ChatShop(rate_limit=2000, rate_window=60)
    client = reading_client(shop)
    try:
        frame = json.dumps({"type": "message", "client_id": "x" * 64, "body": ""})
        client.flood_and_read('{"type":"hello"}', frame, 8000, until=8001)
        answers = [e for e in client.received if e["type"] == "error"]
        assert client.close_code is None and len(answers) == 8000, (
            client.close_code, len(answers))
    finally:
        client.close()
        shop.close()


def test_a_2000_character_message_in_json_escapes_is_within_the_limit(shop):
    """2,000 characters outside the BMP written as ``\\ud83d\\ude00`` pairs: 24 KB of frame
    for a message of exactly the limit, refused as frame_too_large before."""
    operator = shop.operator()
    visitor = shop.visitor()
    body = "\U0001F600" * 2000
    frame = json.dumps({"type": "message", "client_id": "esc", "body": body})  # ASCII escapes
    assert len(frame) > 24_000
    visitor.send_raw(frame)
    ack = visitor.expect(lambda e: e.get("client_id", e.get("ref")) == "esc")
    assert ack["type"] == "ack", ack
    assert operator.expect("message", author="customer")["body"] == body
    visitor.send_raw(json.dumps({"type": "message", "client_id": "esc2", "body": body + "x"}))
    assert visitor.expect("error")["code"] == "message_too_long"


# --- the shop's database out of reach ------------------------------------------------------

@pytest.fixture
def keys_and_app():
    """Cookie secrets, and an app whose database URL names a closed port."""
    keys = testing.make_cookie_keys()
    app = Flask(__name__)
    app.config.update(PSONLINECHAT_DATABASE_URL=(
        f"mysql+pymysql://root@127.0.0.1:{free_port()}/prestashop?charset=utf8mb4"),
        **testing.keys_config(keys))
    OnlineChat(app)
    yield keys, app
    get_state(app).stop_chat()


def handshake(port: int, who: str, origin: str, cookie: tuple[str, str]) -> tuple[int, dict]:
    """The status and headers a socket handshake to ``who`` is answered with."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", f"/psonlinechat/ws/{who}", headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Origin": origin, "Cookie": f"{cookie[0]}={cookie[1]}"})
        response = conn.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        conn.close()


def warnings_of(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_handshakes_get_503_with_retry_after_while_the_database_is_out_of_reach(
        keys_and_app, live_server, caplog):
    """A 500 page and a traceback for each handshake, before."""
    keys, app = keys_and_app
    server = live_server(app)
    origin = f"http://{HOST}:{server.port}"
    cookie = testing.anonymous_cookie(keys, HOST, id_lang=1)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            for who in ("visitor", "operator"):
                status, headers = handshake(server.port, who, origin, cookie)
                assert status == 503, (who, status)
                assert int(headers["Retry-After"]) > 0
    lines = warnings_of(caplog)
    assert len(lines) == 1, [r.getMessage() for r in lines]  # one line per outage
    assert "out of reach" in lines[0].getMessage() and lines[0].exc_info is None


def test_the_blueprints_http_routes_answer_503_while_the_database_is_out_of_reach(
        keys_and_app, caplog):
    _, app = keys_and_app
    state = get_state(app)
    bp = blueprint.create_blueprint(state)  # the module's blueprint, once more, with a route

    @bp.get("/needs-the-database")
    def needs_the_database():
        return str(state.chat())

    app.register_blueprint(bp, url_prefix="/other", name="other")
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            response = app.test_client().get("/other/needs-the-database")
            assert response.status_code == 503
            assert int(response.headers["Retry-After"]) > 0
    assert len(warnings_of(caplog)) == 1
