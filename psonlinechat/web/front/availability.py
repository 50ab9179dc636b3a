"""What a new visitor may do on a storefront page: :func:`storefront_availability`.

The footer fragment is rendered on every page view, so the answer is kept per app and per
shop for :data:`CACHE_SECONDS` in the process: a warm render costs no query for it. It only
chooses what the page shows first (the launcher of the chat, the offline form, or nothing);
once the visitor's socket is open, its ``welcome`` and ``state`` frames have the last word,
so an operator who left a second ago costs the visitor nothing worse than the offline form
appearing when the panel opens.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

from psonlinechat.chat.operators import OFFLINE_FORM, ONLINE, UNAVAILABLE
from psonlinechat.web.state import ChatState

__all__ = ["CACHE_SECONDS", "OFFLINE_FORM", "ONLINE", "UNAVAILABLE", "AvailabilityCache",
           "storefront_availability"]

#: How long (in seconds) an answer is used before the engine is asked again.
CACHE_SECONDS = 2.0


class AvailabilityCache:
    """One app's answers, per shop, each used for ``max_age`` seconds. Thread-safe: a
    current answer is read without a lock; a missing or stale one is asked for by one
    thread at a time, and the threads that waited use its answer.

    :param max_age: seconds an answer is used for.
    :param clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, max_age: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age, self.clock = max_age, clock
        self._answers: dict[int, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, id_shop: int, ask: Callable[[], str]) -> str:
        """The shop's current answer, from ``ask()`` when missing or stale.

        :raises Exception: whatever ``ask`` raises (nothing is kept then).
        """
        answer = self._answers.get(id_shop)
        if answer is not None and self.clock() - answer[1] < self.max_age:
            return answer[0]
        with self._lock:
            answer = self._answers.get(id_shop)
            if answer is None or self.clock() - answer[1] >= self.max_age:
                answer = self._answers[id_shop] = (ask(), self.clock())
        return answer[0]

    def forget(self) -> None:
        """Drop every answer: the next call of each shop asks the engine."""
        with self._lock:
            self._answers.clear()


_caches: weakref.WeakKeyDictionary[ChatState, AvailabilityCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_of(state: ChatState) -> AvailabilityCache:
    """The app's :class:`AvailabilityCache`, made on first use (and gone with the app)."""
    cache = _caches.get(state)
    if cache is None:
        with _caches_lock:
            cache = _caches.get(state)
            if cache is None:
                cache = _caches[state] = AvailabilityCache()
    return cache


def storefront_availability(state: ChatState, id_shop: int) -> str:
    """What a new visitor of ``id_shop`` may do: ``"online"`` (an operator is present and a
    place is free: the chat), ``"offline_form"`` (none is, and offline mode is on) or
    ``"unavailable"`` (none is, and offline mode is off: no launcher at all), as the chat
    engine's :meth:`~psonlinechat.chat.operators.Operators.availability` says, at most
    :data:`CACHE_SECONDS` old. A hint for the page: the socket's ``welcome`` has the last
    word.

    :raises ShopError: the database is unreachable (or lacks the module's tables) and no
        current answer is kept.
    """
    def ask() -> str:
        chat = state.chat()
        return chat.ctx.read(lambda conn: chat.operators.availability(conn, id_shop))

    return cache_of(state).get(id_shop, ask)
