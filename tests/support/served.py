"""``psonlinechat serve`` as the tests run it: a real subprocess on a free port, and the
sockets a browser on the shop opens to it.

- :class:`ServeProcess` starts ``psonlinechat serve --bind 127.0.0.1:<port>`` with
  ``PSONLINECHAT_*`` variables, waits until a worker listens, and stops it (SIGTERM, then
  SIGKILL); its output is kept for the assertions.
- :class:`ServedShop` is an installed shop, its cookie secrets and a signed-in employee's
  ``psAdmin`` cookie; ``env()`` is what ``serve`` needs to bridge it.
- :func:`open_socket`, :func:`next_event`, :func:`operator_online`, :func:`visitor_hello` and
  :func:`converse` speak the chat protocol over ``websockets``' sync client.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from websockets.sync.client import connect as ws_connect

from psonlinechat import testing

CLI = pathlib.Path(sys.executable).with_name("psonlinechat")


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (as long as nobody takes it)."""
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

    def status_of(self, path: str) -> int:
        """The HTTP status a GET of ``path`` gets from the server (errors included)."""
        try:
            with urllib.request.urlopen(self.http + path, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            error.close()
            return error.code

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


def shop_env(db, **extra: str) -> dict[str, str]:
    """What ``serve`` needs for ``db``: its URL, its prefix and a secret for resume tokens."""
    return {"PSONLINECHAT_DATABASE_URL": db.url, "PSONLINECHAT_TABLE_PREFIX": db.prefix,
            "PSONLINECHAT_SECRET_KEY": "served-shop-" + db.prefix, **extra}


class ServedShop:
    """The installed shop, its cookie secrets and a signed-in employee's ``psAdmin`` cookie."""

    def __init__(self, db, keys, cookie: str) -> None:
        self.db, self.keys, self.cookie = db, keys, cookie

    @classmethod
    def create(cls, db) -> ServedShop:
        """New cookie secrets for the installed shop ``db``, and a new employee signed in."""
        keys = testing.make_cookie_keys()
        _, (name, value) = db.signed_in_employee(
            keys, email=f"op-{secrets.token_hex(4)}@example.test", host="127.0.0.1")
        return cls(db, keys, f"{name}={value}")

    def env(self, **extra: str) -> dict[str, str]:
        return {**shop_env(self.db), **testing.keys_config(self.keys), **extra}


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
