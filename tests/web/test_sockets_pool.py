"""Socket handshakes against a real tiny database pool (PSONLINECHAT_POOL_SIZE=1: one
connection and one of overflow): many at once all get through, each holding one
connection at a time; with the pool held elsewhere they are answered 503 with
``Retry-After``, never 500. Only the pool's timeout is shortened (time)."""

from __future__ import annotations

import concurrent.futures

import pytest

from psonlinechat import get_state
from psonlinechat.store import engine as store_engine
from tests.support.apps import chat_app, closed_after_test
from tests.support.chatclient import HOST, cookie_header, handshake_answer

CHAT_SETTINGS = {"heartbeat_seconds": 5}


@pytest.fixture
def tiny(chat_shop, live_server, monkeypatch):
    """A fresh app on the module's shop with a pool of two connections that gives up after
    1.5 s, served live: ``(app, port)``."""
    monkeypatch.setattr(store_engine, "POOL_TIMEOUT", 1.5)
    app = closed_after_test(chat_app(chat_shop.db, chat_shop.keys, PSONLINECHAT_POOL_SIZE=1,
                                     PSONLINECHAT_HEARTBEAT_SECONDS=5))
    yield app, live_server(app).port
    get_state(app).stop_chat()


def visitor_handshake(chat_shop, port: int) -> tuple[int, dict[str, str]]:
    """The status and headers of an anonymous visitor's socket handshake."""
    return handshake_answer(port, "/psonlinechat/ws/visitor", {
        "Origin": f"http://{HOST}:{port}", "Cookie": cookie_header(chat_shop.anonymous())})


def test_many_handshakes_at_once_share_a_pool_of_two(chat_shop, tiny):
    """Before, a handshake held a connection while it identified the visitor, which reads
    the shop's directory (one reader, the others waiting for its lock) on a second
    connection: two handshakes took the pool and the reader waited for a third, until the
    pool's timeout made it a 500."""
    app, port = tiny
    assert visitor_handshake(chat_shop, port)[0] == 101  # the shop's hosts read and cached
    get_state(app).shop.directory.max_age = 0  # every handshake reads the directory again
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: visitor_handshake(chat_shop, port)[0], range(16)))
    assert statuses == [101] * 16


def test_a_handshake_the_pool_cannot_serve_in_time_is_a_503_with_retry_after(chat_shop, tiny):
    app, port = tiny
    engine = get_state(app).engine
    assert visitor_handshake(chat_shop, port)[0] == 101  # the app works; the pool is warm
    held = [engine.connect(), engine.connect()]  # the whole pool, busy elsewhere
    try:
        assert visitor_handshake(chat_shop, port)[0] == 503
        status, headers = visitor_handshake(chat_shop, port)
        assert status == 503 and int(headers["Retry-After"]) > 0
    finally:
        for conn in held:
            conn.close()
    assert visitor_handshake(chat_shop, port)[0] == 101  # once the pool has room again

