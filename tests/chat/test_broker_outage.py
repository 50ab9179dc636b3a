"""Redis failing after a commit: the sender keeps its ack, the log keeps the message.

A private redis-server is started on a free port and stopped mid-test, so the chat's real
RedisBroker meets a real refused connection; no test double is involved.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time

import pytest
import redis
import sqlalchemy as sa

from tests.support.chatclient import ChatShop
from tests.support.services import unavailable


class PrivateRedis:
    """A throwaway redis-server on 127.0.0.1 that a test may stop."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        try:
            for _ in range(100):
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
            self.stop()
            pytest.fail("the private redis-server did not start")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    server = PrivateRedis()
    yield server
    server.stop()


def test_redis_failing_after_the_commit_loses_neither_the_ack_nor_the_message(
        mariadb, private_redis, caplog):
    shop = ChatShop(redis_url=private_redis.url)
    try:
        shop.operator()  # its status comes back through Redis: the broker works
        visitor = shop.visitor()
        assert visitor.welcome["state"] == "online"

        private_redis.stop()
        with caplog.at_level(logging.WARNING, logger="psonlinechat"):
            first = visitor.say("Is anyone there?", client_id="v-1")
            second = visitor.say("Still there?", client_id="v-2")  # the socket is still open
        assert first["type"] == "ack" and first["seq"] == 1
        assert second["type"] == "ack" and second["seq"] == 2
        assert "could not publish" in caplog.text

        id_conversation = first["conversation"]["id_conversation"]
        m = shop.db.tables.message
        rows = shop.query(sa.select(m.c.seq, m.c.body)
                          .where(m.c.id_conversation == id_conversation).order_by(m.c.seq))
        assert [tuple(row) for row in rows] == [(1, "Is anyone there?"), (2, "Still there?")]

        # No operator heard it live; a console opening now reads both from the log.
        console = shop.connect("operator", shop.employee("bob-outage@example.test"))
        [item] = console.hello()["conversations"]
        assert [e["body"] for e in item["events"]] == ["Is anyone there?", "Still there?"]
    finally:
        shop.close()


def test_events_the_broker_lost_arrive_within_a_heartbeat(mariadb, private_redis):
    """With Redis down, no later event reveals the gap: each socket compares with the log
    at its heartbeat and sends what it missed (before, only a reconnect brought it)."""
    shop = ChatShop(redis_url=private_redis.url, heartbeat_seconds=0.5)
    try:
        operator = shop.operator()
        visitor = shop.visitor()
        opened = visitor.say("first", client_id="v-1")["conversation"]["id_conversation"]
        assert operator.expect("message", body="first")["seq"] == 1

        private_redis.stop()
        assert visitor.say("lost on the way?", client_id="v-2")["seq"] == 2
        assert operator.say("no", id_conversation=opened)["seq"] == 3
        late = operator.expect("message", timeout=10, body="lost on the way?")
        assert late["seq"] == 2 and late["id_conversation"] == opened
        assert visitor.expect("message", timeout=10, author="operator")["seq"] == 3
        newcomer = shop.visitor()  # a conversation opened while the broker is away
        other = newcomer.say("hello?")["conversation"]["id_conversation"]
        summary = operator.expect(lambda e: e["type"] == "conversation"
                                  and e["conversation"]["id_conversation"] == other, 10)
        assert summary["conversation"]["status"] == "ongoing"
        assert operator.expect("message", timeout=10, body="hello?",
                               id_conversation=other)["seq"] == 1
        assert [e["seq"] for e in operator.received
                if e["type"] == "message" and e["id_conversation"] == opened] == [1, 2, 3]
    finally:
        shop.close()
