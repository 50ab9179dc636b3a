"""What the chat's Flask-free core works with: :class:`ChatContext`.

The database (through a gate that lets at most ``PSONLINECHAT_POOL_SIZE`` chat handlers at
it at once), READ COMMITTED transactions run again after a deadlock or a lost connection
(:class:`~psonlinechat.chat.retry.Retry`), each with its after-commit queue, the broker, the
plugins' action hooks, the merchant's settings and the clock.

Work inside a transaction never tells anyone of its change by itself: it queues what to
say (:meth:`ChatContext.publish_after_commit`, :meth:`ChatContext.action_after_commit`,
:meth:`ChatContext.after_commit`), as Odoo's bus queues its notify for post-commit. The
queue runs once the transaction has committed, in order; a rollback drops it, and an
attempt run again after a deadlock starts with an empty one. What it runs never raises
into the sender: the commit stands, and sockets catch up from the log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa

from psonlinechat.chat.broker import Broker
from psonlinechat.chat.retry import Retry
from psonlinechat.config import Settings
from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.store import engine as db
from psonlinechat.store.tables import Tables

log = logging.getLogger(__name__)

T = TypeVar("T")


def utcnow() -> dt.datetime:
    """Now, as the naive UTC datetime the module's tables store."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class AfterCommit:
    """What one transaction does once it has committed, in the order it was queued."""

    def __init__(self) -> None:
        self._items: list[tuple[str, Callable[[], None]]] = []

    def add(self, what: str, call: Callable[[], None]) -> None:
        """Queue ``call()``; ``what`` names it in the log should it fail."""
        self._items.append((what, call))

    def run(self) -> None:
        """Run every queued call; one that raises is logged and the others still run."""
        for what, call in self._items:
            try:
                call()
            except Exception:  # a plugin or the broker: the commit is what counts
                log.exception("after a commit, %s failed; the change stands", what)


@dataclasses.dataclass
class ChatContext:
    """What the chat's Flask-free core works with.

    :param connection: a connection to the shop's database, as a context manager, the
        database failing raised as :class:`~psonlinechat.errors.ShopError`
        (:meth:`psonlinechat.shop.database.ShopDatabase.connect`).
    :param module_settings: ``(conn, id_shop) -> ModuleSettings`` (the merchant's settings).
    :param create_guest: ``(conn, tables, *, id_customer, user_agent, accept_language) -> int``.
    :param clock: the current UTC time (tests may freeze it).
    :param actions: ``actions(name, **event)`` tells the plugins' ``action_*`` hooks of a
        committed change (``name`` is the hook's name); called from the after-commit queue.
    :param retry: when failed database work is tried again.

    The chat's database work goes through :meth:`connect` (and :meth:`transaction`,
    :meth:`read`), which lets at most ``PSONLINECHAT_POOL_SIZE`` of it run at once: past
    that, handlers wait their turn here, without a time limit, instead of timing out at the
    pool (whose overflow stays free for the rest of the app: handshakes, pages).
    """

    connection: Callable[[], contextlib.AbstractContextManager[sa.Connection]]
    tables: Tables
    broker: Broker
    settings: Settings
    module_settings: Callable[[sa.Connection, int], ModuleSettings]
    create_guest: Callable[..., int]
    clock: Callable[[], dt.datetime] = utcnow
    actions: Callable[..., None] = dataclasses.field(default=lambda name, **event: None)
    retry: Retry = dataclasses.field(default_factory=Retry)

    def __post_init__(self) -> None:
        self._gate = threading.BoundedSemaphore(max(1, self.settings.pool_size))
        self._held = threading.local()  # greenlet-local under gevent
        self._count_lock = threading.Lock()
        self.waiting = 0  #: handlers waiting for their turn at the database now
        self._queues: dict[int, AfterCommit] = {}  # id(conn) -> its transaction's queue

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A pooled connection once the chat's turn comes (see the class docstring); a
        handler already holding one (nested use) does not wait again. Not tried again:
        use :meth:`read` or :meth:`transaction` for that.

        :raises ShopError: the database is unreachable, or fails while in use.
        """
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
            with self.connection() as conn:
                yield conn
        finally:
            self._held.depth = depth
            if depth == 0:
                self._gate.release()

    def read(self, work: Callable[[sa.Connection], T]) -> T:
        """``work(conn)`` on a connection of the chat's, run again on a fresh one if the
        connection was lost (see :class:`Retry`); ``work`` must only read.

        :raises ShopError: the database failed otherwise, or is still away.
        """
        def attempt() -> T:
            with self.connect() as conn:
                return work(conn)

        return self.retry.run(attempt)

    def transaction(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work(conn)`` in a READ COMMITTED transaction, then its after-commit queue.

        The whole transaction runs again, with an empty queue, when the database chose it
        as a deadlock victim or the connection was lost (see :class:`Retry`): ``work``
        must give the same outcome when run twice, as the chat's do (a resend is found by
        its client id, a status already set is left alone, a seen mark never moves back;
        an operator's socket count is the exception, and a count too high is corrected by
        the sweeper once the heartbeats stop).

        :raises ShopError: the database failed otherwise, or is still away.
        """
        result, queue = self.retry.run(lambda: self._attempt(work))
        queue.run()
        return result

    def _attempt(self, work: Callable[[sa.Connection], T]) -> tuple[T, AfterCommit]:
        with self.connect() as conn:
            if (conn.dialect.name in {"mysql", "mariadb"}
                    and conn.default_isolation_level != db.ISOLATION_LEVEL):
                # every read sees the latest commit, also after the first one (the app's
                # engine is made so, see db.create_engine: nothing to set)
                conn.execution_options(isolation_level=db.ISOLATION_LEVEL)
            queue = self._queues[id(conn)] = AfterCommit()
            try:
                with conn.begin():
                    result = work(conn)
            finally:
                del self._queues[id(conn)]
            db.transaction_ended(conn)  # committed: no ROLLBACK when given back
        return result, queue

    def after_commit(self, conn: sa.Connection, what: str, call: Callable[[], None]) -> None:
        """Run ``call()`` once the transaction of ``conn`` commits (never if it rolls back);
        ``what`` names it in the log should it fail.

        :raises RuntimeError: ``conn`` is not in a :meth:`transaction` of this context.
        """
        queue = self._queues.get(id(conn))
        if queue is None:
            raise RuntimeError("after_commit needs the connection of a ChatContext.transaction")
        queue.add(what, call)

    def publish_after_commit(self, conn: sa.Connection, channel: str,
                             event: dict[str, Any]) -> None:
        """Publish ``event`` on ``channel`` once the transaction of ``conn`` commits.

        :raises RuntimeError: ``conn`` is not in a :meth:`transaction` of this context.
        """
        self.after_commit(conn, f"publishing {event.get('type')} on {channel}",
                          lambda: self.publish(channel, event))

    def action_after_commit(self, conn: sa.Connection, name: str, **event: Any) -> None:
        """Tell the plugins' ``name`` hook of the change once the transaction of ``conn``
        commits (see the ``actions`` parameter).

        :raises RuntimeError: ``conn`` is not in a :meth:`transaction` of this context.
        """
        self.after_commit(conn, f"the {name} hook", lambda: self.actions(name, **event))

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Publish ``event`` now on the broker: what the after-commit queue does, and what
        changes nothing stored does at once (typing).

        A broker failure (Redis down) is logged, never raised: the answer to the sender
        stands, and other sockets catch up from the log (see the sockets' outbox).
        """
        try:
            self.broker.publish(channel, event)
        except Exception as exc:  # any broker, any failure: the commit is what counts
            log.warning("could not publish a %s event on %s (%s: %s); sockets will catch up "
                        "from the log", event.get("type"), channel, type(exc).__name__, exc)
