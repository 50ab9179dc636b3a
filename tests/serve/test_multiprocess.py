"""Two real ``psonlinechat serve`` processes sharing one MariaDB database and one Redis.

The Redis broker names its channels after the database (see
:func:`psonlinechat.chat.broker.namespace_for`), and each test module has a database of its
own, so runs sharing the Redis never hear each other.
"""

from __future__ import annotations

import json

import pytest

from tests.support.served import ServeProcess, converse, next_event, operator_online, visitor_hello

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_servers(served_shop, redis_url):
    """Processes A and B: same database, same Redis, one gevent worker each."""
    env = served_shop.env(PSONLINECHAT_REDIS_URL=redis_url)
    servers = [ServeProcess([], env) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_listening()
        yield servers
    finally:
        for server in servers:
            server.close()


def test_visitor_on_one_process_and_operator_on_the_other_talk_both_ways(served_shop, two_servers):
    a, b = two_servers
    converse(a, b, served_shop.cookie)  # visitor on A, operator on B
    converse(b, a, served_shop.cookie)  # and the other way round


def test_operator_status_is_seen_across_processes(served_shop, two_servers):
    a, b = two_servers
    # other_tab: the same employee's other back-office tab, served by the other process.
    with operator_online(b, served_shop.cookie) as operator, \
            operator_online(a, served_shop.cookie) as other_tab:
        visitor, welcome = visitor_hello(a)
        with visitor:
            assert welcome["state"] == "online"
            operator.send(json.dumps({"type": "status", "online": False}))
            assert next_event(other_tab, "status")["online"] is False
            assert next_event(visitor, "state")["state"] != "online"
            operator.send(json.dumps({"type": "status", "online": True}))
            assert next_event(other_tab, "status")["online"] is True
            assert next_event(visitor, "state")["state"] == "online"


def test_two_workers_with_redis_start_and_chat(served_shop, redis_url):
    server = ServeProcess(["--workers", "2"], served_shop.env(PSONLINECHAT_REDIS_URL=redis_url))
    try:
        server.start().wait_listening()
        # Sockets land on either worker; a few conversations cross between them.
        for _ in range(3):
            converse(server, server, served_shop.cookie)
        output = server.output()
    finally:
        server.close()
    assert output.count("Booting worker") == 2
