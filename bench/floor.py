"""The persisted floor: a bare flask-sock server on gevent that commits each message first.

For every message frame it commits one INSERT into a MariaDB table, then relays the frame
as ``bench/relay.py`` does: a visitor's frame to the operator sockets of its group, an
operator's frame to the visitor whose ``id_conversation`` it names. No identity, no
sequence, no replay, no de-duplication: the least a chat that keeps its promise "stored
before delivered" must do, on the chat's own stack. ``bench/load.py`` runs it as a
subprocess, with the same sockets and traffic as the relay::

    python bench/floor.py --port 8766 [--worker-connections 300]

Paths: ``/visitor/<group>/<id_conversation>`` and ``/operator/<group>``.

**Server**: gunicorn with its gevent worker, one worker, embedded as ``psonlinechat serve``
embeds it, not gevent's ``WSGIServer``: the same server, worker class, WebSocket library
(flask-sock over simple-websocket, one reader greenlet per socket), database driver and
pool (SQLAlchemy Core over PyMySQL) as the chat, so that what separates the two in the
benchmark is the chat's own work per message, not the stack under it. The worker's
client connection is wrapped so that every frame goes out whole (``sendall`` under a
lock: simple-websocket writes a frame with one ``send``, which gevent may cut short).

**Database**: a fresh database ``psoc_floor_<random>`` on ``--database-url`` (default:
MariaDB at 127.0.0.1:3306, root, no password) with one InnoDB table, created by the
master before the worker starts and dropped when the server stops (SIGTERM or SIGINT),
whatever happens. Each message takes one pooled connection (``BENCH_POOL_SIZE``, default
20, as the chat's pool; TLS off over loopback, as the chat's), and two round trips: the
INSERT and the COMMIT; no ping on checkout, no ROLLBACK on return. The number of rows
stored is printed on the way out (``floor stored N messages``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

DEFAULT_DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/"

metadata = sa.MetaData()
messages = sa.Table(
    "message", metadata,
    sa.Column("id_message", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("id_conversation", sa.Integer, nullable=False),
    sa.Column("author", sa.String(16), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("date_add", sa.DateTime(), nullable=False),
    mysql_engine="InnoDB", mysql_charset="utf8mb4",
)
INSERT = messages.insert()


def make_engine(url: sa.URL, pool_size: int) -> sa.Engine:
    """A pooled engine over PyMySQL; no connection opens until first use."""
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=10,
                            pool_reset_on_return=None,
                            connect_args={"charset": "utf8mb4", "ssl_disabled": True,
                                          "connect_timeout": 5})


class WholeFrames:
    """WSGI middleware: the worker's client connection sends each frame whole and alone."""

    class Connection:
        def __init__(self, sock: Any) -> None:
            self._sock = sock
            self._lock = threading.Lock()  # gevent's, once the worker is patched

        def send(self, data: bytes, *flags: int) -> int:
            with self._lock:
                self._sock.sendall(data, *flags)
            return len(data)

        def sendall(self, data: bytes, *flags: int) -> None:
            self.send(data, *flags)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._sock, name)

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if "gunicorn.socket" in environ:
            environ["gunicorn.socket"] = self.Connection(environ["gunicorn.socket"])
        return self.app(environ, start_response)


class Floor:
    """Who is connected, and each message committed before it is relayed."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.operators: dict[int, set[Any]] = {}
        self.visitors: dict[int, Any] = {}

    def store(self, id_conversation: int, author: str, frame: dict[str, Any]) -> None:
        """Commit one row for ``frame``.

        :raises sqlalchemy.exc.SQLAlchemyError: the INSERT or the COMMIT failed.
        """
        with self.engine.begin() as conn:
            conn.execute(INSERT, {"id_conversation": id_conversation, "author": author,
                                  "client_id": str(frame.get("client_id", ""))[:64],
                                  "body": str(frame.get("body", "")),
                                  "date_add": datetime.datetime.now(datetime.UTC)})

    @staticmethod
    def relay(targets: Iterable[Any], text: str) -> None:
        for ws in list(targets):
            try:
                ws.send(text)
            except Exception:  # a socket closing meanwhile: its own handler cleans up
                continue

    def operator(self, ws: Any, group: int) -> None:
        self.operators.setdefault(group, set()).add(ws)
        try:
            while True:
                text = ws.receive()
                try:
                    frame = json.loads(text)
                    id_conversation = int(frame["id_conversation"])
                except (ValueError, KeyError, TypeError):
                    continue
                self.store(id_conversation, "operator", frame)
                target = self.visitors.get(id_conversation)
                if target is not None:
                    self.relay([target], text)
        finally:
            self.operators[group].discard(ws)

    def visitor(self, ws: Any, group: int, id_conversation: int) -> None:
        self.visitors[id_conversation] = ws
        try:
            while True:
                text = ws.receive()
                try:
                    frame = json.loads(text)
                except (ValueError, TypeError):
                    continue
                if not isinstance(frame, dict):
                    continue
                self.store(id_conversation, "customer", frame)
                self.relay(self.operators.get(group, ()), text)
        finally:
            if self.visitors.get(id_conversation) is ws:
                del self.visitors[id_conversation]


def create_app(url: sa.URL, pool_size: int) -> WholeFrames:
    """The floor's WSGI app, built in the worker (after gevent's patching)."""
    from flask import Flask
    from flask_sock import Sock

    app = Flask("floor")
    sock = Sock(app)
    floor = Floor(make_engine(url, pool_size))

    def guarded(handler: Callable[..., None]) -> Callable[..., None]:
        def serve(ws: Any, **kwargs: int) -> None:
            from simple_websocket import ConnectionClosed

            try:
                handler(ws, **kwargs)
            except ConnectionClosed:
                raise
            except Exception as exc:  # a database error: close as an error, not a page
                app.logger.error("floor: %r", exc)
                ws.close(1011, "internal error")
        serve.__name__ = handler.__name__
        return serve

    sock.route("/operator/<int:group>")(guarded(floor.operator))
    sock.route("/visitor/<int:group>/<int:id_conversation>")(guarded(floor.visitor))
    return WholeFrames(app.wsgi_app)


def run_gunicorn(bind: str, worker_connections: int, url: sa.URL, pool_size: int) -> None:
    """Serve under gunicorn (gevent worker, one worker) until SIGTERM or SIGINT."""
    from gunicorn.app.base import BaseApplication

    class FloorServer(BaseApplication):
        def load_config(self) -> None:
            settings = {"bind": [bind], "workers": 1, "worker_class": "gevent",
                        "worker_connections": worker_connections, "preload_app": False,
                        "graceful_timeout": 5, "errorlog": "-", "loglevel": "info",
                        "proc_name": "psoc-floor"}
            if "control_socket_disable" in self.cfg.settings:  # one shared path otherwise
                settings["control_socket_disable"] = True
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> WholeFrames:
            return create_app(url, pool_size)

    FloorServer(prog="floor").run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--worker-connections", type=int, default=2100)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    pool_size = int(os.environ.get("BENCH_POOL_SIZE", "20"))
    server = sa.make_url(args.database_url)
    name = f"psoc_floor_{secrets.token_hex(4)}"
    admin = make_engine(server, 1)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    admin.dispose()  # the worker is forked from here: it inherits no connection
    url = server.set(database=name)
    master = os.getpid()
    try:
        setup = make_engine(url, 1)
        metadata.create_all(setup)
        setup.dispose()
        print(f"floor: database {name}, listening on {args.host}:{args.port}", flush=True)
        run_gunicorn(f"{args.host}:{args.port}", args.worker_connections, url, pool_size)
    finally:
        # gunicorn's master leaves run() by SystemExit once its worker has stopped; the
        # forked worker leaves by the same way, and must not drop the database.
        if os.getpid() == master:
            cleanup(admin, name)


def cleanup(admin: sa.Engine, name: str) -> None:
    """Print how many messages the floor stored, and drop its database."""
    with admin.begin() as conn:
        try:
            stored = conn.exec_driver_sql(f"SELECT COUNT(*) FROM `{name}`.message").scalar()
            print(f"floor stored {stored} messages", flush=True)
        finally:
            conn.exec_driver_sql(f"DROP DATABASE `{name}`")
    admin.dispose()


if __name__ == "__main__":
    main()
