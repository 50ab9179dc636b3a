"""``psonlinechat serve``: a real gunicorn subprocess on a free port, over a real shop database."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from psonlinechat import testing
from psonlinechat.shop import installer

pytestmark = pytest.mark.slow

CLI = pathlib.Path(sys.executable).with_name("psonlinechat")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """``psonlinechat serve`` as a subprocess; its output is kept in a temporary file.

    :param args: the options after ``serve`` (``--bind`` is added).
    :param env: ``PSONLINECHAT_*`` variables on top of the current environment.
    """

    def __init__(self, args: list[str], env: dict[str, str], port: int | None = None,
                 preexec_fn=None) -> None:
        self.port = port or free_port()
        self.args = [str(CLI), "serve", "--bind", f"127.0.0.1:{self.port}", *args]
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("PSONLINECHAT_")}
        self.env.update(env)
        self.preexec_fn = preexec_fn
        self.process: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def start(self) -> ServeProcess:
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=self.preexec_fn)
        return self

    def wait_listening(self, timeout: float = 30.0) -> ServeProcess:
        """Wait until the port accepts connections and a worker booted.

        :raises AssertionError: the server exited or never listened.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early:\n{self.output()}"
            if "Booting worker" in self.output():
                with contextlib.suppress(OSError), \
                        socket.create_connection(("127.0.0.1", self.port), 0.5):
                    time.sleep(0.3)  # the worker loads the app after gunicorn says so
                    return self
            time.sleep(0.1)
        raise AssertionError(f"serve never listened on {self.port}:\n{self.output()}")

    def run_to_exit(self, timeout: float = 30.0) -> int:
        self.start()
        return self.process.wait(timeout)

    def stop(self) -> int | None:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode

    def close(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> ServeProcess:
        return self.start().wait_listening()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@pytest.fixture(scope="module")
def installed(ps_db):
    """The ps_ shop with the module installed."""
    installer.install(ps_db.engine, ps_db.tables)
    return ps_db


def shop_env(db, **extra: str) -> dict[str, str]:
    return {"PSONLINECHAT_DATABASE_URL": db.url, "PSONLINECHAT_TABLE_PREFIX": db.prefix, **extra}


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
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(server.http + "/psonlinechat/no-such-page", timeout=10)
        status = error.value.code
        error.value.close()
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

class ChatShop:
    """The installed shop, its cookie secrets and a signed-in employee's ``psAdmin`` cookie."""

    def __init__(self, db, keys, cookie: str) -> None:
        self.db, self.keys, self.cookie = db, keys, cookie

    def env(self, **extra: str) -> dict[str, str]:
        return {**shop_env(self.db), **testing.keys_config(self.keys), **extra}


def make_chat_shop(db) -> ChatShop:
    keys = testing.make_cookie_keys()
    with db.engine.begin() as conn:
        id_employee = testing.add_employee(conn, db.tables,
                                           email=f"op-{secrets.token_hex(4)}@example.test")
        name, value = testing.sign_in_employee(conn, db.tables, keys, "127.0.0.1", id_employee)
    return ChatShop(db, keys, f"{name}={value}")


@pytest.fixture(scope="module")
def chat_shop(installed) -> ChatShop:
    return make_chat_shop(installed)


def open_socket(server: ServeProcess, role: str, cookie: str | None = None):
    """A WebSocket to the server's visitor or operator route, as a browser on the shop opens it."""
    ws = ws_connect(f"{server.ws}/psonlinechat/ws/{role}", origin=f"http://127.0.0.1:{server.port}",
                    additional_headers={"Cookie": cookie} if cookie else None,
                    proxy=None, compression=None, open_timeout=10, close_timeout=2)
    # Entered here (the caller closes it): websockets 17 wants connect() used as a context.
    return ws.__enter__()


def next_event(ws, kind: str, timeout: float = 15.0) -> dict:
    """The next event of type ``kind``; others are skipped.

    :raises TimeoutError: none came in ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if event["type"] == kind:
            return event


def operator_online(server: ServeProcess, cookie: str):
    ws = open_socket(server, "operator", cookie)
    ws.send(json.dumps({"type": "hello"}))
    next_event(ws, "recap")
    ws.send(json.dumps({"type": "status", "online": True}))
    assert next_event(ws, "status")["online"] is True
    return ws


def visitor_hello(server: ServeProcess):
    ws = open_socket(server, "visitor")
    ws.send(json.dumps({"type": "hello"}))
    return ws, next_event(ws, "welcome")


def converse(server_a: ServeProcess, server_b: ServeProcess, cookie: str) -> None:
    """A visitor on ``server_a`` and an operator on ``server_b`` talk both ways."""
    with operator_online(server_b, cookie) as operator:
        visitor, welcome = visitor_hello(server_a)
        with visitor:
            assert welcome["state"] == "online"
            visitor.send(json.dumps({"type": "message", "client_id": "v-1",
                                     "body": "Is the blue teapot in stock?"}))
            ack = next_event(visitor, "ack")
            id_conversation = ack["conversation"]["id_conversation"]
            seen = next_event(operator, "message")
            assert seen["id_conversation"] == id_conversation
            assert (seen["author"], seen["body"]) == ("customer", "Is the blue teapot in stock?")
            operator.send(json.dumps({"type": "message", "id_conversation": id_conversation,
                                      "client_id": "o-1", "body": "Yes, three left."}))
            answer = next_event(visitor, "message")
            while answer["author"] != "operator":
                answer = next_event(visitor, "message")
            assert answer["body"] == "Yes, three left."
            assert answer["seq"] == ack["seq"] + 1


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_a_conversation_through_serve(chat_shop, worker_class):
    server = ServeProcess(["--worker-class", worker_class], chat_shop.env())
    try:
        server.start().wait_listening()
        converse(server, server, chat_shop.cookie)
    finally:
        server.close()


@pytest.mark.parametrize("worker_class, option", [("gevent", "--worker-connections"),
                                                   ("gthread", "--threads")])
def test_the_socket_beyond_the_cap_is_refused_at_once(chat_shop, worker_class, option):
    server = ServeProcess(["--worker-class", worker_class, option, "2"], chat_shop.env())
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
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(server.http + "/psonlinechat/no-such-page", timeout=10)
        assert error.value.code == 404
        error.value.close()
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


def test_frames_reach_a_slow_reader_whole(chat_shop):
    """A socket that reads slowly makes the server's sends partial under gevent; no frame
    may be cut (simple-websocket alone drops the rest of a partial send)."""
    server = ServeProcess(["--worker-class", "gevent"],
                          chat_shop.env(PSONLINECHAT_RATE_LIMIT="1000"))
    small = socket.socket()
    small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        server.start().wait_listening()
        small.connect(("127.0.0.1", server.port))
        operator = ws_connect(f"{server.ws}/psonlinechat/ws/operator", sock=small,
                              origin=f"http://127.0.0.1:{server.port}",
                              additional_headers={"Cookie": chat_shop.cookie}, proxy=None,
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
