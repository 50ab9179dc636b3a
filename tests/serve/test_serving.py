"""``psonlinechat serve``: a real gunicorn subprocess on a free port, over a real shop database."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.support.served import (
    ServeProcess,
    converse,
    next_event,
    open_socket,
    operator_online,
    shop_env,
    visitor_hello,
)

pytestmark = pytest.mark.slow


# --- refusing to start ---------------------------------------------------------------------------

def exit_of(server: ServeProcess) -> tuple[int, str]:
    """Run ``server`` until it exits by itself: its exit code and everything it printed."""
    try:
        return server.run_to_exit(), server.output()
    finally:
        server.close()


def test_more_than_one_worker_without_redis_refuses_to_start(installed):
    code, output = exit_of(ServeProcess(["--workers", "2"], shop_env(installed)))
    assert code != 0
    assert "--workers 2 needs PSONLINECHAT_REDIS_URL" in output
    assert "messages between workers are lost" in output
    assert "Booting worker" not in output


def test_a_missing_database_is_named_before_anything_starts():
    code, output = exit_of(ServeProcess([], {}))
    assert code != 0
    assert "PSONLINECHAT_DATABASE_URL is required" in output
    assert "Listening at" not in output


@pytest.mark.parametrize("option", ["--workers", "--worker-connections", "--threads"])
def test_counts_below_one_are_refused(installed, option):
    code, output = exit_of(ServeProcess([option, "0"], shop_env(installed)))
    assert code != 0
    assert f"{option} must be at least 1, not 0" in output


def test_an_open_files_limit_below_the_socket_cap_refuses_to_start(installed):
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    code, output = exit_of(ServeProcess(["--worker-connections", "2000"], shop_env(installed),
                                        preexec_fn=low_limit))
    assert code != 0
    assert "open files but the hard limit is 256" in output
    assert "lower --worker-connections" in output


# --- a running server ------------------------------------------------------------------------

@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_starts_serves_http_and_stops_cleanly(installed, worker_class):
    server = ServeProcess(["--worker-class", worker_class], shop_env(installed))
    try:
        server.start().wait_listening()
        status = server.status_of("/psonlinechat/no-such-page")
        code = server.stop()
        output = server.output()
    finally:
        server.close()
    assert status == 404  # Flask answered, through gunicorn
    assert f"Using worker: {worker_class}" in output
    assert code == 0
    # Nothing imported before gevent's patching kept a blocking original, and shutting
    # down (with a frozen heap) raised nothing.
    assert "unpatched" not in output
    assert "MonkeyPatchWarning" not in output
    assert "Traceback" not in output and "Exception ignored" not in output


# --- chatting through it ---------------------------------------------------------------------

@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_a_conversation_through_serve(served_shop, worker_class):
    server = ServeProcess(["--worker-class", worker_class], served_shop.env())
    try:
        server.start().wait_listening()
        converse(server, server, served_shop.cookie)
    finally:
        server.close()


@pytest.mark.parametrize("worker_class, option", [("gevent", "--worker-connections"),
                                                   ("gthread", "--threads")])
def test_the_socket_beyond_the_cap_is_refused_at_once(served_shop, worker_class, option):
    server = ServeProcess(["--worker-class", worker_class, option, "2"], served_shop.env())
    held = []
    try:
        server.start().wait_listening()
        for _ in range(2):
            ws, welcome = visitor_hello(server)
            held.append(ws)
            assert welcome["type"] == "welcome"
        # The third gets an answer, not silence: 503 before any upgrade.
        with pytest.raises(InvalidStatus) as refused:
            open_socket(server, "visitor")
        response = refused.value.response
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert b"2 chat connections per worker" in response.body
        # Ordinary requests still find a greenlet or thread at the cap.
        assert server.status_of("/psonlinechat/no-such-page") == 404
        # A closed socket frees its place.
        held.pop().close()
        admitted = None
        for _ in range(50):
            try:
                admitted, welcome = visitor_hello(server)
                break
            except InvalidStatus:
                time.sleep(0.1)
        assert admitted is not None, "the freed place was never given back"
        held.append(admitted)
        assert welcome["type"] == "welcome"
    finally:
        for ws in held:
            ws.close()
        server.close()


def test_frames_reach_a_slow_reader_whole(served_shop):
    """A socket that reads slowly makes the server's sends partial under gevent; no frame
    may be cut (simple-websocket alone drops the rest of a partial send)."""
    server = ServeProcess(["--worker-class", "gevent"],
                          served_shop.env(PSONLINECHAT_RATE_LIMIT="1000"))
    small = socket.socket()
    small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        server.start().wait_listening()
        small.connect(("127.0.0.1", server.port))
        operator = ws_connect(f"{server.ws}/psonlinechat/ws/operator", sock=small,
                              origin=f"http://127.0.0.1:{server.port}",
                              additional_headers={"Cookie": served_shop.cookie}, proxy=None,
                              compression=None, max_queue=1, open_timeout=10, close_timeout=2)
        with operator:
            operator.send(json.dumps({"type": "hello"}))
            next_event(operator, "recap")
            operator.send(json.dumps({"type": "status", "online": True}))
            next_event(operator, "status")
            visitor, _ = visitor_hello(server)
            bodies = [f"{n:04d} " + "x" * 1900 for n in range(150)]
            with visitor:
                for number, body in enumerate(bodies):  # the operator reads none of these yet
                    visitor.send(json.dumps({"type": "message", "client_id": f"m{number}",
                                             "body": body}))
                    next_event(visitor, "ack")
            received = [next_event(operator, "message")["body"] for _ in bodies]
    finally:
        small.close()
        server.close()
    assert received == bodies


# --- the capacity log ------------------------------------------------------------------------

@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_sigusr1_logs_the_capacity_of_each_worker(served_shop, worker_class):
    """``kill -USR1`` of the master: each worker logs its sockets, messages and commits
    (under gevent the handler runs in the event loop, where nothing may block)."""
    server = ServeProcess(["--worker-class", worker_class], served_shop.env())
    try:
        server.start().wait_listening()
        with operator_online(server, served_shop.cookie) as operator:
            visitor, _ = visitor_hello(server)
            with visitor:
                for number in range(3):
                    visitor.send(json.dumps({"type": "message", "client_id": f"m{number}",
                                             "body": f"message {number}"}))
                    next_event(visitor, "ack")
                os.kill(server.process.pid, signal.SIGUSR1)
                deadline = time.monotonic() + 15
                while "psonlinechat capacity" not in server.output():
                    assert time.monotonic() < deadline, server.output()
                    time.sleep(0.1)
                visitor.send(json.dumps({"type": "ping"}))
                next_event(visitor, "pong")  # the worker still serves
            operator.send(json.dumps({"type": "ping"}))
            next_event(operator, "pong")
        output = server.output()
    finally:
        server.close()
    [line] = [line for line in output.splitlines() if "psonlinechat capacity" in line]
    found = re.search(r"capacity, worker \d+, last [\d.]+ s: 2 sockets open, [\d.]+ messages/s, "
                      r"(\d+) commits of ([\d.]+) messages on average \(largest (\d+)\), commit "
                      r"p50 [\d.]+ ms p99 [\d.]+ ms, queue 0 messages, 0 handlers waiting for "
                      r"the database", line)
    assert found, line
    commits, mean, largest = int(found[1]), float(found[2]), int(found[3])
    assert commits * mean == 3 and largest == 1  # one at a time: batches of one
    assert "Traceback" not in output and "Exception in worker" not in output
