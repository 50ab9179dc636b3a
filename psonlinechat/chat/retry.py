"""When the chat runs failed database work again: :class:`Retry`.

Two failures are worth another try, both raised as :class:`~psonlinechat.errors.ShopError`
by :func:`psonlinechat.shop.database.connection`:

- a deadlock or a lock wait timeout: the database chose this transaction as the victim, and
  running it again at once usually succeeds;
- a lost connection (MariaDB restarting, a connection killed, one found broken): a fresh
  connection may succeed once the database is back. The work is tried again after pauses
  that double from ``first_pause`` to ``longest_pause``, each shortened at random (jitter,
  so that the sockets of a worker do not come back in step), for ``outage_seconds`` in all.
  A database restart of a few seconds then costs the sockets a delay, not a close and a
  reconnect storm.

Only work that may run twice goes through here: a whole transaction (rolled back when it
failed) or a read.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from psonlinechat.errors import ShopError

log = logging.getLogger(__name__)

#: Lock wait timeout, deadlock: the transaction is run again at once.
DEADLOCK_CODES = frozenset({1205, 1213})

T = TypeVar("T")


@dataclasses.dataclass
class Retry:
    """How long and how often failed database work is tried again (see module docstring).

    :param deadlocks: further attempts after a deadlock or a lock wait timeout.
    :param outage_seconds: how long work is tried again while the connection is lost.
    :param first_pause: the first pause after a lost connection, in seconds; it doubles.
    :param longest_pause: no pause is longer.
    :param sleep: waits (tests give a fake clock's).
    :param monotonic: the clock the outage is measured with.
    :param uniform: ``uniform(a, b)``, the jitter (tests may fix it).
    """

    deadlocks: int = 3
    outage_seconds: float = 10.0
    first_pause: float = 0.05
    longest_pause: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    uniform: Callable[[float, float], float] = random.uniform

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._outage_since: float | None = None  # for one log line per outage

    def run(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, again after a deadlock or a lost connection, within the bounds.

        :raises ShopError: the database failed otherwise, or still after the bounds.
        """
        started = self.monotonic()
        deadlocks = pauses = 0
        while True:
            try:
                result = attempt()
            except ShopError as exc:
                if exc.code in DEADLOCK_CODES and deadlocks < self.deadlocks:
                    deadlocks += 1
                    continue
                left = self.outage_seconds - (self.monotonic() - started)
                if not exc.lost or left <= 0:
                    raise
                self._outage(exc)
                pause = min(self.longest_pause, self.first_pause * 2 ** pauses)
                self.sleep(min(left, self.uniform(pause / 2, pause)))
                pauses += 1
                continue
            if self._outage_since is not None:  # the first success since an outage
                self._recovered()
            return result

    def _outage(self, exc: ShopError) -> None:
        with self._lock:
            if self._outage_since is not None:
                return
            self._outage_since = self.monotonic()
        log.warning("%s; the chat tries again for up to %g s", exc, self.outage_seconds)

    def _recovered(self) -> None:
        with self._lock:
            since, self._outage_since = self._outage_since, None
        if since is not None:
            log.warning("the shop's database answers again after %.1f s",
                        self.monotonic() - since)
