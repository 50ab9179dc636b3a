"""The engine: one pooled SQLAlchemy engine per app, over PyMySQL for MySQL/MariaDB.

Connections are checked before use (``pool_pre_ping``) so that a worker survives a
database restart, renewed after ``PSONLINECHAT_POOL_RECYCLE`` seconds, and speak utf8mb4
as PrestaShop's own do. They are READ COMMITTED from the start: every read sees the
latest commit, which the chat's transactions need (see ``ChatContext.transaction``), and
setting it per transaction cost two statements more each time. A connection given back
right after its transaction ended (see :func:`transaction_ended`) skips the pool's
ROLLBACK; every other one is rolled back as SQLAlchemy's pool would. SQLite is accepted
for the embedded demo only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection

from psonlinechat.config import Settings
from psonlinechat.errors import ConfigError


def normalise_url(url: str) -> sa.URL:
    """Return ``url`` as a SQLAlchemy URL that uses PyMySQL with utf8mb4.

    :raises ConfigError: the URL is unreadable or names another database kind.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with the reason
        raise ConfigError("PSONLINECHAT_DATABASE_URL", f"is not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend in {"mysql", "mariadb"}:
        parsed = parsed.set(drivername=f"{backend}+pymysql")
        return parsed.update_query_dict({"charset": "utf8mb4"})
    if backend == "sqlite":
        return parsed
    raise ConfigError("PSONLINECHAT_DATABASE_URL",
                      f"names {backend!r}; PrestaShop runs on MySQL or MariaDB")


#: The isolation level of every MySQL/MariaDB connection.
ISOLATION_LEVEL = "READ COMMITTED"
#: Seconds a checkout waits for a pooled connection before the pool raises
#: ``sqlalchemy.exc.TimeoutError`` (read when an engine is made).
POOL_TIMEOUT = 10.0


def create_engine(settings: Settings) -> sa.Engine:
    """Make the app's engine; no connection is opened until first use.

    :raises ConfigError: the database URL is malformed.
    """
    url = normalise_url(settings.database_url or "")
    if url.get_backend_name() == "sqlite":
        return sa.create_engine(url, connect_args={"check_same_thread": False})
    engine = sa.create_engine(
        url,
        isolation_level=ISOLATION_LEVEL,
        pool_pre_ping=True,
        pool_recycle=settings.pool_recycle,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=POOL_TIMEOUT,
        pool_reset_on_return=None,  # _reset_on_return does it
        connect_args=connect_args(url),
    )
    sa.event.listen(engine, "reset", _reset_on_return)
    return engine


_ENDED = "psonlinechat.transaction_ended"


def transaction_ended(conn: sa.Connection) -> None:
    """Note that ``conn``'s transaction was just committed (or rolled back) and nothing ran
    since: when ``conn`` closes, the pool gives it back without a ROLLBACK.

    SQLAlchemy's pool rolls back every connection given back, except one closed with its
    transaction still open (which it rolls back itself): after a commit that is a round
    trip to the database for nothing. Call this last, just before closing.
    """
    conn.info[_ENDED] = True


def _reset_on_return(dbapi_connection: DBAPIConnection,
                     record: sa.pool.ConnectionPoolEntry | None,
                     state: sa.pool.PoolResetState) -> None:
    """The pool's reset: a ROLLBACK, unless the transaction was already ended."""
    ended = record.info.pop(_ENDED, False) if record is not None else False
    if not (ended or state.transaction_was_reset):
        dbapi_connection.rollback()


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The integer primary key that the single-row INSERT ``result`` created.

    :raises sqlalchemy.exc.InvalidRequestError: ``result`` is no single-row INSERT, or
        its table's key was not generated.
    """
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise sa.exc.InvalidRequestError("the statement created no primary key")
    return int(key[0])


def connect_args(url: sa.URL) -> dict[str, object]:
    """PyMySQL's arguments for ``url``.

    PyMySQL 1.2 tries TLS on every connection unless told otherwise, and building its TLS
    context costs about 20 ms of CPU per new connection (measured here, even against a
    server without TLS). Across loopback or a Unix socket TLS protects nothing, so it is
    off there unless the URL asks for it (``ssl_*`` query options); a remote database keeps
    PyMySQL's "preferred" TLS.
    """
    args: dict[str, object] = {"connect_timeout": 5}
    asks_for_tls = any(name.startswith("ssl") for name in url.query)
    local = url.host in (None, "", "localhost") or url.host.startswith("127.") or url.host == "::1"
    if local and not asks_for_tls:
        args["ssl_disabled"] = True
    return args
