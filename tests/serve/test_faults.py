"""Faults of the served chat, met as an unlucky operations team meets them: a client
flooding a gevent worker, and a restart of the shop's MariaDB (a private instance the test
starts, restarts and always stops; never the shared one)."""

from __future__ import annotations

import contextlib
import json
import logging
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pymysql
import pytest
import simple_websocket
import sqlalchemy as sa

from psonlinechat import get_state, testing
from psonlinechat.shop import installer
from psonlinechat.store import tables as tables_module
from tests.support import shopdb
from tests.support.apps import chat_app
from tests.support.chatclient import HOST, ChatClient, handshake_status
from tests.support.liveserver import LiveServer
from tests.support.readingclient import ReadingClient
from tests.support.served import ServeProcess, free_port

pytestmark = pytest.mark.slow


# --- a flood under gevent ---------------------------------------------------------------------

def served_reader(server: ServeProcess, served_shop) -> ReadingClient:
    cookie = testing.anonymous_cookie(served_shop.keys, HOST, id_lang=served_shop.db.ids["en"])
    return ReadingClient(HOST, server.port, "/psonlinechat/ws/visitor", origin=server.http,
                         cookie=f"{cookie[0]}={cookie[1]}")


def test_a_flood_under_gevent_is_rate_limited_then_closed_with_a_close_frame(served_shop):
    """10,000 pings after hello, back to back, while the client reads: the gevent worker
    answered every buffered frame before its writer could send one, passed the unread
    limit, and dropped the connection: no pong, no error, no close frame, no log line."""
    server = ServeProcess(["--worker-class", "gevent"], served_shop.env())
    try:
        server.start().wait_listening()
        client = served_reader(server, served_shop)
        try:
            client.flood_and_read('{"type":"hello"}', '{"type":"ping"}', 10_000, until=10_001)
        finally:
            client.close()
        kinds = {(event["type"], event.get("code")) for event in client.received}
        assert {("pong", None), ("error", "rate_limited")} <= kinds, kinds
        assert client.close_code == 1008
        server.stop()
        assert "kept flooding" in server.output()
    finally:
        server.close()


def test_a_client_that_reads_is_never_cut_under_gevent(served_shop):
    """Frames within the limits, answered faster than the client reads: all answered, no
    cut (the answers to its own frames made the gevent worker cut a reading client)."""
    server = ServeProcess(["--worker-class", "gevent"],
                          served_shop.env(PSONLINECHAT_RATE_LIMIT="4000"))
    try:
        server.start().wait_listening()
        client = served_reader(server, served_shop)
        frame = json.dumps({"type": "message", "client_id": "x" * 64, "body": ""})
        try:
            client.flood_and_read('{"type":"hello"}', frame, 10_000, until=10_001)
        finally:
            client.close()
        answers = [event for event in client.received if event["type"] == "error"]
        assert (client.close_code, len(answers)) == (None, 10_000)
        server.stop()
        assert "cut a" not in server.output()
    finally:
        server.close()


# --- a restart of the shop's MariaDB -----------------------------------------------------------

class PrivateMariaDB:
    """A MariaDB server of the test's own, in a temporary folder on a free port, that the
    test may stop and start at will (the shared server on 3306 is never touched)."""

    def __init__(self) -> None:
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="psoc-mariadb-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.folder}/data",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)

    def start(self) -> PrivateMariaDB:
        """Start the server and wait until it answers.

        :raises AssertionError: it exited, or did not answer within 60 seconds.
        """
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the server's, closed by stop()
        self.process = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.folder}/data",
             f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.folder}/sock",
             f"--pid-file={self.folder}/pid", "--user=root", "--skip-grant-tables",
             "--innodb-buffer-pool-size=32M"], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "server.log").read_text()
            with contextlib.suppress(pymysql.err.OperationalError):
                pymysql.connect(host="127.0.0.1", port=self.port, user="root",
                                connect_timeout=1).close()
                return self
            time.sleep(0.2)
        raise AssertionError(f"the private MariaDB never answered on {self.port}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers); idempotent."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def shop(self, prefix: str = "ps_") -> shopdb.ShopDatabase:
        """A shop database on this server, loaded and seeded as tests/support/shopdb.py
        does, with the module installed."""
        name = "psoc_fault"
        with pymysql.connect(host="127.0.0.1", port=self.port, user="root", autocommit=True,
                             charset="utf8mb4") as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_unicode_ci")
            cur.execute(f"USE `{name}`")
            for statement in shopdb.schema_statements(prefix):
                cur.execute(statement)
        url = f"mysql+pymysql://root@127.0.0.1:{self.port}/{name}?charset=utf8mb4"
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        tables = tables_module.build(prefix)
        with engine.begin() as conn:
            ids = shopdb.seed_small_shop(conn, tables)
        installer.install(engine, tables)
        return shopdb.ShopDatabase(name, prefix, url, engine, tables, ids)


@pytest.fixture
def private_mariadb():
    """A private MariaDB, started; always stopped and removed after the test."""
    server = PrivateMariaDB()
    try:
        yield server.start()
    finally:
        server.remove()


def test_a_mariadb_restart_costs_handshakes_a_503_and_open_sockets_nothing(
        private_mariadb, caplog):
    """While the shop's MariaDB restarts, handshakes get 503 with Retry-After (a 500 page
    and a traceback each, before); once it is back they work again, and the sockets open
    throughout carry on: they survive, or (when the chat's retries could not hide the
    restart) are closed with 1013 and resume where they were; none is cut or sent an
    error page."""
    db = private_mariadb.shop()
    keys = testing.make_cookie_keys()
    app = chat_app(db, keys, PSONLINECHAT_HEARTBEAT_SECONDS=2)
    server = LiveServer(app).start()
    shop = Sockets(server.port)
    _, employee = db.signed_in_employee(keys, email="restart@example.test")
    visitor_cookie = testing.anonymous_cookie(keys, HOST, id_lang=db.ids["en"])
    try:
        operator = shop.operator(employee)
        visitor = shop.connect("visitor", visitor_cookie)
        visitor.hello()
        ack = visitor.say("before")
        id_conversation, token = ack["conversation"]["id_conversation"], ack["token"]
        operator.expect("message", body="before")
        with caplog.at_level(logging.WARNING):
            private_mariadb.stop()
            assert shop.handshake("operator", employee) == 503
            assert shop.handshake("visitor", visitor_cookie) == 503
            time.sleep(2.5)  # a heartbeat of the open sockets falls in the outage
            private_mariadb.start()
            assert shop.handshake("operator", employee) == 101
            assert shop.handshake("visitor", visitor_cookie) == 101
            if not shop.survived(visitor):
                visitor = shop.connect("visitor", visitor_cookie)
                visitor.hello(token=token, last_seq=ack["seq"])
            assert visitor.say("after", client_id="v-after")["type"] == "ack"
            if shop.survived(operator):
                operator.expect("message", body="after", timeout=15)
            else:
                operator = shop.operator(employee, last_seqs={str(id_conversation): 1})
                recap = next(e for e in operator.received if e["type"] == "recap")
                assert [e["body"] for c in recap["conversations"] for e in c["events"]] == [
                    "after"]
            operator.send("message", id_conversation=id_conversation, client_id="o-1",
                          body="welcome back")
            assert visitor.expect("message", body="welcome back", timeout=15)
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    finally:
        shop.close()
        server.stop()
        get_state(app).stop_chat()
        get_state(app).engine.dispose()
        db.engine.dispose()


class Sockets:
    """The chat sockets a browser on the shop opens to the server on ``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://{HOST}:{port}"
        self.clients: list[ChatClient] = []

    def connect(self, who: str, cookie: tuple[str, str]) -> ChatClient:
        self.clients.append(ChatClient(f"ws://{HOST}:{self.port}/psonlinechat/ws/{who}",
                                       cookies=[cookie], origin=self.origin))
        return self.clients[-1]

    def operator(self, cookie: tuple[str, str], **hello) -> ChatClient:
        client = self.connect("operator", cookie)
        client.hello(**hello)
        client.send("status", online=True)
        client.expect("status", online=True)
        return client

    def handshake(self, who: str, cookie: tuple[str, str]) -> int:
        return handshake_status(self.port, f"/psonlinechat/ws/{who}",
                                {"Origin": self.origin, "Cookie": f"{cookie[0]}={cookie[1]}"})

    @staticmethod
    def survived(client: ChatClient) -> bool:
        """Whether ``client`` is still open; if not, it must have been closed with 1013."""
        try:
            client.send("ping")
            client.expect("pong")
        except simple_websocket.ConnectionClosed:
            assert client.ws.close_reason == 1013, client.ws.close_reason
            return False
        return True

    def close(self) -> None:
        for client in self.clients:
            client.close()
