"""The shop's database out of reach, as the web edge tells it: one log line per outage.

While MariaDB is down, every handshake and every page of the module fails the same way; a
traceback for each would bury the log and say nothing new. An :class:`Outage` logs the
first failure of an outage (one warning naming the cause, without a traceback) and, when a
request succeeds again, one line saying how long it lasted. The clients meanwhile get
``503 Service Unavailable`` with ``Retry-After`` (:mod:`psonlinechat.web.blueprint`), and
the chat sockets a close frame (1013, try again later).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from psonlinechat.errors import ShopError

log = logging.getLogger(__name__)

#: What the database failing raises at the web edge: the shop layer wraps every failure of
#: the database in :class:`ShopError` (see :func:`psonlinechat.shop.database.connection`).
DATABASE_FAILURES: tuple[type[Exception], ...] = (ShopError,)

#: Seconds a client is asked to wait before it tries again (``Retry-After``).
RETRY_AFTER_SECONDS = 5


class Outage:
    """Whether the shop's database is out of reach as this app last saw it, logged once
    per outage.

    :param monotonic: the clock the outage is measured with.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._since: float | None = None
        self._lock = threading.Lock()

    def failed(self, exc: Exception) -> None:
        """The database failed for a request: log it if it is the first failure since it
        last worked."""
        with self._lock:
            if self._since is not None:
                return
            self._since = self._monotonic()
        log.warning("the shop's database is out of reach (%s); chat requests are answered "
                    "503 until it is back", exc)

    def recovered(self) -> None:
        """A request succeeded: log the end of an outage, if there was one."""
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("the shop's database answers again; the outage lasted %.1f s",
                        self._monotonic() - since)
