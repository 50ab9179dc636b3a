"""What the chat's Flask-free core works with: :class:`ChatContext`.

The database (through a gate that lets at most ``PSONLINECHAT_POOL_SIZE`` chat handlers at
it at once), READ COMMITTED transactions retried after a deadlock, the broker (publishing
after commit, never raising), the merchant's settings and the clock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from psonlinechat.store import engine as db
from psonlinechat.chat.broker import Broker
from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.config import Settings
from psonlinechat.store.tables import Tables

log = logging.getLogger(__name__)

READ_COMMITTED = "READ COMMITTED"
_DEADLOCK_CODES = {1205, 1213}  # lock wait timeout, deadlock: retry the transaction


def utcnow() -> dt.datetime:
    """Now, as the naive UTC datetime the module's tables store."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclasses.dataclass
class ChatContext:
    """What the chat's Flask-free core works with.

    :param module_settings: ``(conn, id_shop) -> ModuleSettings`` (the merchant's settings).
    :param create_guest: ``(conn, tables, *, id_customer, user_agent, accept_language) -> int``.
    :param clock: the current UTC time (tests may freeze it).
    :param actions: ``actions(name, **event)`` tells the plugins' ``action_*`` hooks of a
        committed change (``name`` is the hook's name); never raises into the chat.

    The chat's database work goes through :meth:`connect` (and :meth:`transaction`), which
    lets at most ``PSONLINECHAT_POOL_SIZE`` of it run at once: past that, handlers wait
    their turn here, without a time limit, instead of timing out at the pool (whose
    overflow stays free for the rest of the app: handshakes, pages).
    """

    engine: sa.Engine
    tables: Tables
    broker: Broker
    settings: Settings
    module_settings: Callable[[sa.Connection, int], ModuleSettings]
    create_guest: Callable[..., int]
    clock: Callable[[], dt.datetime] = utcnow
    actions: Callable[..., None] = dataclasses.field(default=lambda name, **event: None)

    def __post_init__(self) -> None:
        self._gate = threading.BoundedSemaphore(max(1, self.settings.pool_size))
        self._held = threading.local()  # greenlet-local under gevent
        self._count_lock = threading.Lock()
        self.waiting = 0  #: handlers waiting for their turn at the database now

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A pooled connection once the chat's turn comes (see the class docstring); a
        handler already holding one (nested use) does not wait again."""
        depth = getattr(self._held, "depth", 0)
        if depth == 0 and not self._gate.acquire(blocking=False):
            with self._count_lock:
                self.waiting += 1
            try:
                self._gate.acquire()
            finally:
                with self._count_lock:
                    self.waiting -= 1
        self._held.depth = depth + 1
        try:
            with self.engine.connect() as conn:
                yield conn
        finally:
            self._held.depth = depth
            if depth == 0:
                self._gate.release()

    def transaction(self, work: Callable[[sa.Connection], Any], attempts: int = 4) -> Any:
        """Run ``work(conn)`` in a READ COMMITTED transaction, again if the database chose
        it as a deadlock victim.

        :raises sqlalchemy.exc.OperationalError: the database failed otherwise, or again.
        """
        for attempt in range(attempts):
            try:
                with self.connect() as conn:
                    if (conn.dialect.name in {"mysql", "mariadb"}
                            and conn.default_isolation_level != READ_COMMITTED):
                        # every read sees the latest commit, also after the first one (the
                        # app's engine is made so, see db.create_engine: nothing to set)
                        conn.execution_options(isolation_level=READ_COMMITTED)
                    with conn.begin():
                        result = work(conn)
                    db.transaction_ended(conn)  # committed: no ROLLBACK when given back
                    return result
            except sa.exc.OperationalError as exc:
                code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
                if code not in _DEADLOCK_CODES or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Publish ``event``, whose change is already committed, on the broker.

        A broker failure (Redis down) is logged, never raised: the answer to the sender
        stands, and other sockets catch up from the log (see :class:`outbox.Outbox`).
        """
        try:
            self.broker.publish(channel, event)
        except Exception as exc:  # any broker, any failure: the commit is what counts
            log.warning("could not publish a %s event on %s (%s: %s); sockets will catch up "
                        "from the log", event.get("type"), channel, type(exc).__name__, exc)
