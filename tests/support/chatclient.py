"""Test helpers for the chat sockets: a live shop app, signed-in cookies, socket clients.

``ChatShop`` is one fresh MariaDB shop with the module installed, an app bridging it and
a real Werkzeug server; ``ChatClient`` is a ``simple_websocket.Client`` that speaks JSON,
answers the server's pings, and waits for the events a test expects.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import simple_websocket
import sqlalchemy as sa

from psonlinechat import get_state, testing
from psonlinechat.shop import installer
from psonlinechat.store import conversations
from tests.support import shopdb
from tests.support.apps import chat_app
from tests.support.liveserver import LiveServer
from tests.support.readingclient import ReadingClient

HOST = shopdb.SHOP_DOMAIN
_ids = itertools.count(1)


def cookie_header(cookies: list[tuple[str, str]]) -> str:
    """The ``Cookie`` request header carrying ``cookies``."""
    return "; ".join(f"{name}={value}" for name, value in cookies)


class _BrowserLikeClient(simple_websocket.Client):
    """simple-websocket's client, sending ``Host`` with the port as browsers do (it sends
    the name alone, which means port 80, and the handshake's Origin check compares ports)."""

    def handshake(self) -> None:
        self.host = f"{self.host}:{self.port}"
        super().handshake()


class ChatClient:
    """One socket: ``send(type, **fields)``, ``expect(type)`` (skipping other events)."""

    def __init__(self, url: str, *, cookies: list[tuple[str, str]] = (),
                 origin: str | None = None) -> None:
        headers = {}
        if cookies:
            headers["Cookie"] = cookie_header(cookies)
        if origin:
            headers["Origin"] = origin
        self.ws = _BrowserLikeClient.connect(url, headers=headers)
        self.received: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []
        self.answer_pings = True

    def send(self, type: str, **fields: Any) -> None:
        self.ws.send(json.dumps({"type": type, **fields}))

    def send_raw(self, text: str | bytes) -> None:
        self.ws.send(text)

    def _next(self, timeout: float) -> dict[str, Any]:
        if self._pending:
            return self._pending.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no event in time; received so far: "
                                   f"{[e.get('type') for e in self.received]}")
            text = self.ws.receive(timeout=left)
            if text is None:
                continue
            event = json.loads(text)
            self.received.append(event)
            if event.get("type") == "ping" and self.answer_pings:
                self.send("pong")
            return event

    def expect(self, type: str | Callable[[dict], bool], timeout: float = 5.0,
               **match: Any) -> dict[str, Any]:
        """The next event of ``type`` (and with the ``match`` fields); others in between
        are kept for later ``expect`` calls."""
        skipped: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                event = self._next(max(0.0, deadline - time.monotonic()))
                ok = type(event) if callable(type) else event.get("type") == type
                if ok and all(event.get(k) == v for k, v in match.items()):
                    return event
                if event.get("type") != "ping":
                    skipped.append(event)
        finally:
            self._pending = skipped + self._pending

    def next_event(self, timeout: float = 5.0) -> dict[str, Any]:
        """The very next event other than a ping (pings are answered)."""
        return self.expect(lambda e: e["type"] != "ping", timeout)

    def hello(self, **fields: Any) -> dict[str, Any]:
        self.send("hello", **fields)
        return self.expect(lambda e: e["type"] in {"welcome", "recap"})

    def say(self, body: str, client_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """Send a message and return its ack (or the error that refused it)."""
        client_id = client_id or f"m{next(_ids)}"
        self.send("message", client_id=client_id, body=body, **fields)
        return self.expect(lambda e: e["type"] in {"ack", "error"}
                           and e.get("client_id", e.get("ref")) == client_id)

    def closed(self, timeout: float = 5.0) -> bool:
        """Whether the server closes the socket within ``timeout`` (draining events)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = self.ws.receive(timeout=0.1)
            except simple_websocket.ConnectionClosed:
                return True
            if text is not None:
                self.received.append(json.loads(text))
            if not self.ws.connected:
                return True
        return False

    def close(self) -> None:
        with contextlib.suppress(simple_websocket.ConnectionClosed):
            self.ws.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def handshake_answer(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """The HTTP status (101 when it upgrades) and headers the server answers a WebSocket
    handshake with."""
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path, headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), **headers})
        response = conn.getresponse()
        response.read() if response.status != 101 else None
        return response.status, dict(response.getheaders())
    finally:
        conn.close()


def handshake_status(port: int, path: str, headers: dict[str, str]) -> int:
    """The HTTP status the server answers a WebSocket handshake with (101 when it upgrades)."""
    return handshake_answer(port, path, headers)[0]


class ChatShop:
    """A fresh shop database with the module installed, served by a live app."""

    def __init__(self, prefix: str = "ps_", **config: Any) -> None:
        self.db = shopdb.create(prefix)
        self.keys = testing.make_cookie_keys()
        installer.install(self.db.engine, self.db.tables)
        self.app = chat_app(self.db, self.keys, **{
            "PSONLINECHAT_" + key.upper(): value for key, value in config.items()})
        self.state = get_state(self.app)
        self.server = LiveServer(self.app).start()
        self.clients: list[ChatClient] = []
        with self.db.engine.connect() as conn:
            self.initial = self.state.module_settings(conn, self.id_shop)

    @property
    def id_shop(self) -> int:
        return self.db.ids["shop"]

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.server.port}"

    def url(self, who: str) -> str:
        return f"ws://{HOST}:{self.server.port}/psonlinechat/ws/{who}"

    def settings(self, **changes: Any) -> None:
        """Save merchant settings (max_chats, offline_mode, operator_name, …)."""
        with self.db.engine.connect() as conn:
            self.state.shop.settings_store.save(conn, self.db.tables, self.id_shop, changes)
            conn.commit()

    def employee(self, email: str = "eve@example.test", **fields: Any) -> list[tuple[str, str]]:
        """A new employee, signed in: the cookies of their back office."""
        _, cookie = self.db.signed_in_employee(self.keys, email=email, **fields)
        return [cookie]

    def customer(self, email: str = "ann@example.test", **fields: Any) -> tuple[int, list]:
        """A new customer, signed in: ``(id_customer, cookies)``."""
        id_customer, cookie = self.db.signed_in_customer(self.keys, email=email, **fields)
        return id_customer, [cookie]

    def anonymous(self) -> list[tuple[str, str]]:
        return [testing.anonymous_cookie(self.keys, HOST, id_lang=self.db.ids["en"])]

    def connect(self, who: str, cookies: list[tuple[str, str]] = (), *,
                origin: str | None = "") -> ChatClient:
        """A socket to ``who`` ("visitor"/"operator"), closed with the shop."""
        client = ChatClient(self.url(who), cookies=cookies,
                            origin=self.origin if origin == "" else origin)
        self.clients.append(client)
        return client

    def operator(self, cookies: list[tuple[str, str]] | None = None, *,
                 online: bool = True) -> ChatClient:
        """An operator's socket after hello (and switched online)."""
        client = self.connect("operator", cookies or self.employee())
        client.hello()
        if online:
            client.send("status", online=True)
            client.expect("status", online=True)
        return client

    def visitor(self, cookies: list[tuple[str, str]] | None = None, **hello: Any) -> ChatClient:
        client = self.connect("visitor", cookies if cookies is not None else self.anonymous())
        client.welcome = client.hello(page_url="http://127.0.0.1/product/1", **hello)
        return client

    def handshake(self, who: str, cookies: list[tuple[str, str]] = (), *,
                  origin: str | None = "") -> int:
        """The status of a handshake to ``who`` (101: upgraded, then closed at once)."""
        headers = {}
        if cookies:
            headers["Cookie"] = cookie_header(cookies)
        origin = self.origin if origin == "" else origin
        if origin:
            headers["Origin"] = origin
        return handshake_status(self.server.port, f"/psonlinechat/ws/{who}", headers)

    def query(self, statement: Any) -> list:
        with self.db.engine.connect() as conn:
            return list(conn.execute(statement))

    def reset(self) -> None:
        """Close every socket and forget conversations, presence and setting changes, so
        that the next test starts from a quiet shop without creating another database."""
        for client in self.clients:
            client.close()
        self.clients.clear()
        t = self.db.tables
        with self.db.engine.begin() as conn:
            for table in (t.message, t.conversation, t.operator, t.shop_lock):
                conn.execute(table.delete())
        self.settings(max_chats=self.initial.max_chats, offline_mode=self.initial.offline_mode,
                      operator_name=self.initial.operator_name)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop()
        self.state.stop_chat()
        self.state.engine.dispose()
        self.db.drop()


class SilentClient(ReadingClient):
    """A visitor socket that sends frames but never reads what it is sent (a tiny receive
    buffer, so that the server's side fills up soon): a stuck or hostile client."""

    def __init__(self, shop: ChatShop, cookies: list[tuple[str, str]]) -> None:
        super().__init__(HOST, shop.server.port, "/psonlinechat/ws/visitor",
                         origin=shop.origin, cookie=cookie_header(cookies))

    def send(self, type: str, **fields: Any) -> None:
        self.sock.sendall(self.frames(json.dumps({"type": type, **fields}), 1))

    def drain(self, timeout: float = 10.0) -> int:
        """Read until the server closes the connection; return the bytes read.

        :raises TimeoutError: the connection stays open.
        """
        self.sock.settimeout(timeout)
        total = 0
        while chunk := self.sock.recv(65536):
            total += len(chunk)
        return total


def _lock_waits(conn: Any) -> int:
    """Transactions of ``conn``'s database waiting for a row lock now."""
    return conn.execute(sa.text(
        "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p"
        " ON p.ID = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()"
    )).scalar_one()


def waits_for_the_shop_lock(shop: ChatShop, action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``action`` in a thread while another transaction holds the shop's lock; return
    whether it waited for a lock, and its result once the lock is released."""
    results: list[Any] = []
    with shop.db.engine.connect() as holder, shop.db.engine.connect() as watcher:
        holder.begin()
        conversations.lock_shop(holder, shop.db.tables, shop.id_shop)
        thread = threading.Thread(target=lambda: results.append(action()))
        thread.start()
        try:
            waited = False
            for _ in range(50):  # until the action waits for a lock, or is done
                waited = _lock_waits(watcher) > 0
                if waited or results:
                    break
                watcher.rollback()
                # INNODB_TRX is a cache refreshed only when not read for 0.1 s
                time.sleep(0.2)
        finally:
            holder.rollback()
            thread.join()
    return waited, results[0] if results else None


@contextlib.contextmanager
def holding_the_pool(ctx: Any, connections: int = 2) -> Iterator[None]:
    """Keep ``connections`` of ``ctx``'s pool in slow transactions until the block ends:
    whatever the block starts meanwhile waits for a connection. The holders are let go
    and joined on the way out."""
    holding, release = threading.Semaphore(0), threading.Event()

    def hold(conn: sa.Connection) -> None:
        holding.release()
        release.wait()

    holders = [threading.Thread(target=ctx.transaction, args=(hold,), daemon=True)
               for _ in range(connections)]
    for thread in holders:
        thread.start()
    try:
        assert all(holding.acquire(timeout=30) for _ in holders)
        yield
    finally:
        release.set()
        for thread in holders:
            thread.join(timeout=60)
