"""Operator availability: the online switch, presence over every worker, the grace period.

The database is where every worker sees presence (see :mod:`psonlinechat.store.operators`).
:class:`Operators` counts sockets, refreshes heartbeats, and runs a sweeper thread that
switches absent operators offline: those whose last socket closed more than
``operator_grace_seconds`` ago, or whose worker stopped beating (crashed) for
``2 × heartbeat_seconds + operator_grace_seconds``. Going offline archives the shop's
finished conversations; when the last operator leaves, the ongoing ones are ended by the
system and archived too, and visitors are put in the offline state.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

import sqlalchemy as sa

from psonlinechat.chat.broker import shop_channel, visitors_channel
from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.publisher import Publisher
from psonlinechat.store import conversations as conv_repo
from psonlinechat.store import operators as repo

log = logging.getLogger(__name__)

#: What a visitor without a conversation may do.
ONLINE, OFFLINE_FORM, UNAVAILABLE = "online", "offline_form", "unavailable"


class Operators:
    """Presence and availability of the shop's operators, seen alike by every worker."""

    def __init__(self, ctx: ChatContext) -> None:
        self.ctx = ctx
        self.publisher = Publisher(ctx, self)
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self._sweeper_lock = threading.Lock()

    # --- availability ---------------------------------------------------------------

    def presence(self) -> repo.Presence:
        """The presence rule as of now."""
        s = self.ctx.settings
        return repo.Presence(self.ctx.clock(), s.operator_grace_seconds,
                             2 * s.heartbeat_seconds + s.operator_grace_seconds)

    def availability(self, conn: sa.Connection, id_shop: int, *, locking: bool = False) -> str:
        """``online`` when an operator is present and a place is free, else the offline
        form's state or ``unavailable`` as the merchant's offline mode says.

        :param locking: count with a locking read (inside :func:`conv_repo.lock_shop`).
        """
        present = repo.present_ids(conn, self.ctx.tables, id_shop, self.presence())
        return self._state(conn, id_shop, present, locking=locking)

    def state_and_present(self, conn: sa.Connection, id_shop: int) -> tuple[str, list[int]]:
        """:meth:`availability` and the ids of the operators present, from one read of
        their presence."""
        present = repo.present_ids(conn, self.ctx.tables, id_shop, self.presence())
        return self._state(conn, id_shop, present), present

    def _state(self, conn: sa.Connection, id_shop: int, present: list[int], *,
               locking: bool = False) -> str:
        module = self.ctx.module_settings(conn, id_shop)
        if present and conv_repo.count_ongoing(conn, self.ctx.tables, id_shop,
                                               locking=locking) < module.max_chats:
            return ONLINE
        return OFFLINE_FORM if module.offline_mode else UNAVAILABLE

    def publish_availability(self, id_shop: int) -> str:
        """Tell the shop's visitors (and its operators) what they may do now; return it.

        :raises ShopError: the database failed, or is still away.
        """
        state, present = self.ctx.read(lambda conn: self.state_and_present(conn, id_shop))
        self.ctx.publish(visitors_channel(id_shop), {"type": "state", "state": state})
        self.ctx.publish(shop_channel(id_shop), {
            "type": "presence", "operators_online": present, "state": state})
        return state

    # --- sockets and the switch -------------------------------------------------------

    def socket_opened(self, id_employee: int, id_shop: int) -> repo.Operator:
        """Count an operator socket; start the sweeper of this process if needed."""
        self.start_sweeper()
        now = self.ctx.clock()
        return self.ctx.transaction(
            lambda conn: repo.socket_opened(conn, self.ctx.tables, id_employee, id_shop, now))

    def socket_closed(self, id_employee: int, id_shop: int) -> None:
        """Count an operator socket fewer; the grace period starts."""
        now = self.ctx.clock()
        self.ctx.transaction(
            lambda conn: repo.socket_closed(conn, self.ctx.tables, id_employee, id_shop, now))

    def heartbeat(self, id_employee: int, id_shop: int) -> None:
        """An operator socket is alive."""
        now = self.ctx.clock()
        self.ctx.transaction(
            lambda conn: repo.touch(conn, self.ctx.tables, id_employee, id_shop, now))

    def is_online(self, id_employee: int, id_shop: int) -> bool:
        """The operator's switch."""
        operator = self.ctx.read(
            lambda conn: repo.get(conn, self.ctx.tables, id_employee, id_shop))
        return bool(operator and operator.online)

    def set_status(self, id_employee: int, id_shop: int, online: bool) -> bool:
        """Flip the operator's switch; going offline archives (see module docstring).

        :returns: whether the switch changed.
        """
        if online:
            return self.ctx.transaction(lambda conn: self._go_online(conn, id_employee,
                                                                     id_shop))
        return self._go_offline(id_employee, id_shop, absent_only=False)

    def _go_online(self, conn: sa.Connection, id_employee: int, id_shop: int) -> bool:
        # Under the shop's lock: an operator going offline meanwhile decides whether anyone
        # is left (and ends the ongoing conversations) before or after this, never during.
        conv_repo.lock_shop(conn, self.ctx.tables, id_shop)
        changed = repo.set_online(conn, self.ctx.tables, id_employee, id_shop, True,
                                  self.ctx.clock())
        if changed:
            self.publisher.switched(conn, id_shop, id_employee, online=True)
        return changed

    def _go_offline(self, id_employee: int, id_shop: int, *, absent_only: bool) -> bool:
        t = self.ctx.tables
        now = self.ctx.clock()

        def work(conn: sa.Connection) -> bool:
            conv_repo.lock_shop(conn, t, id_shop)
            if absent_only:
                changed = repo.take_offline_if_absent(conn, t, id_employee, id_shop,
                                                      self.presence())
            else:
                changed = repo.set_online(conn, t, id_employee, id_shop, False, now)
            if changed:
                ended, archived = self._archive(conn, id_shop, now)
                self.publisher.switched(conn, id_shop, id_employee, online=False,
                                        ended=ended, archived=archived)
            return changed

        return self.ctx.transaction(work)

    def _archive(self, conn: sa.Connection, id_shop: int,
                 now: dt.datetime) -> tuple[list[conv_repo.Event], list[int]]:
        """Archive the shop's finished conversations, and when nobody is left, end the
        ongoing ones (by the system) and archive them too; return the ``ended`` events
        logged and the ids archived. Call under the shop's lock."""
        t = self.ctx.tables
        ended = []
        to_archive = [id_conversation for id_conversation, _ in conv_repo.lock_with_status(
            conn, t, id_shop, conv_repo.FINISHED)]
        if not repo.present_ids(conn, t, id_shop, self.presence()):
            for id_conversation, last_seq in conv_repo.lock_with_status(
                    conn, t, id_shop, conv_repo.ONGOING):
                ended.append(conv_repo.append(
                    conn, t, id_conversation=id_conversation, seq=last_seq + 1, kind="ended",
                    author="system", now=now,
                    **conv_repo.status_values(conv_repo.FINISHED, now, ended_by="system")))
                to_archive.append(id_conversation)
        for id_conversation in to_archive:
            conv_repo.set_status(conn, t, id_conversation, conv_repo.ARCHIVED, now=now)
        return ended, to_archive

    # --- the sweeper ----------------------------------------------------------------

    def sweep(self) -> list[tuple[int, int]]:
        """Switch offline the operators no longer there; return ``(id_employee, id_shop)``
        of those this call took offline (another worker may take some first)."""
        candidates = self.ctx.read(
            lambda conn: repo.absent_but_online(conn, self.ctx.tables, self.presence()))
        return [(id_employee, id_shop) for id_employee, id_shop in candidates
                if self._go_offline(id_employee, id_shop, absent_only=True)]

    def sweep_interval(self) -> float:
        """Seconds between two sweeps: half the shortest of grace and heartbeat."""
        s = self.ctx.settings
        return max(0.05, min(s.operator_grace_seconds, s.heartbeat_seconds) / 2)

    def start_sweeper(self) -> None:
        """Start this process's sweeper thread once (idempotent)."""
        with self._sweeper_lock:
            if self._sweeper is not None or self._stop.is_set():
                return
            self._sweeper = threading.Thread(target=self._sweep_forever, daemon=True,
                                             name="psonlinechat-sweeper")
            self._sweeper.start()

    def _sweep_forever(self) -> None:
        while not self._stop.wait(self.sweep_interval()):
            try:
                self.sweep()
            except Exception:  # the database may be away for a while: sweep again later
                log.exception("the operator sweep failed")

    def close(self) -> None:
        """Stop the sweeper thread."""
        self._stop.set()
        with self._sweeper_lock:
            sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.join(timeout=5)
