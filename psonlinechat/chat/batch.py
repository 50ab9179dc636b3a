"""Group commit: work that arrives together shares one transaction (:class:`GroupCommit`).

A handler hands its item to :meth:`GroupCommit.submit` and waits. While fewer than
``slots`` batches are being committed, the handler becomes a leader: it takes every item
waiting (its own among them, at most ``max_batch``), commits them together through the
``commit`` function it was given, and gives each waiting handler its own outcome. Items
that arrive meanwhile wait for the next batch, which the next leader (the oldest waiting
handler) takes as soon as a slot is free. No thread of its own: leaders are the handlers.

Under light load a batch holds one item and costs what a single commit costs; under load
the batches grow by themselves, so that the transactions, round trips and log flushes
per item fall as the load rises. An outcome is only given once its batch has committed
(or failed): the caller acknowledges nothing before the commit.

:class:`CommitStats` counts what was committed, for the capacity log of ``psonlinechat
serve``.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - the item type
R = TypeVar("R")

#: Commit times kept for the percentiles (the most recent ones).
SAMPLES = 4096


class CommitStats:
    """Items committed, batch sizes and commit times since the last :meth:`take`."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._since = monotonic()
        self._items = self._batches = self._largest = 0
        self._seconds: deque[float] = deque(maxlen=SAMPLES)

    def committed(self, items: int, seconds: float) -> None:
        """Count one batch of ``items`` that took ``seconds`` to commit."""
        with self._lock:
            self._items += items
            self._batches += 1
            self._largest = max(self._largest, items)
            self._seconds.append(seconds)

    def take(self) -> dict[str, Any]:
        """The figures since the last call, and start counting again: ``seconds`` (the
        period), ``items``, ``per_second``, ``batches``, ``mean_batch``, ``largest_batch``,
        ``p50_ms`` and ``p99_ms`` (commit time; ``None`` without a batch)."""
        now = self._monotonic()
        with self._lock:
            items, batches, largest = self._items, self._batches, self._largest
            seconds, since = sorted(self._seconds), self._since
            self._items = self._batches = self._largest = 0
            self._seconds.clear()
            self._since = now
        period = max(now - since, 1e-9)
        return {"seconds": period, "items": items, "per_second": items / period,
                "batches": batches, "mean_batch": items / batches if batches else 0.0,
                "largest_batch": largest, "p50_ms": _percentile(seconds, 0.50),
                "p99_ms": _percentile(seconds, 0.99)}


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclasses.dataclass(eq=False)
class _Ticket(Generic[I]):
    """One submitted item and what became of it."""

    item: I
    wake: threading.Event = dataclasses.field(default_factory=threading.Event)
    taken: bool = False  # in a batch being committed
    finished: bool = False
    lead: bool = False  # handed the leader's role while waiting
    leading: bool = False  # a leader (or handed the role): never handed it again
    outcome: Any = None


class GroupCommit(Generic[I, R]):
    """Commit items that arrive together in one batch (see the module docstring).

    :param commit: ``commit(take)`` commits one batch: ``take()`` gives its items (the
        ones waiting at its first call; call it once the connection is there, so that the
        batch grows meanwhile; later calls give the same). It returns one outcome per item,
        in order: a result, or an exception that item's handler raises. What it raises is
        raised to every handler of the batch (all the waiting ones if it never took).
    :param slots: batches committed at once (each on its own connection).
    :param max_batch: items one batch takes at most.
    """

    def __init__(self, commit: Callable[[Callable[[], list[I]]], list[Any]], *,
                 slots: int = 2, max_batch: int = 500) -> None:
        self._commit = commit
        self.slots, self.max_batch = max(1, slots), max(1, max_batch)
        self._lock = threading.Lock()
        self._pending: deque[_Ticket[I]] = deque()
        self._leaders = 0

    @property
    def queued(self) -> int:
        """Items waiting for a batch now (not those being committed)."""
        return len(self._pending)

    def submit(self, item: I) -> R:
        """Commit ``item`` with whatever arrives with it; return its outcome once its
        batch committed.

        :raises BaseException: the item's own failure, or its batch's.
        """
        ticket: _Ticket[I] = _Ticket(item)
        with self._lock:
            self._pending.append(ticket)
            lead = ticket.leading = self._leaders < self.slots
            if lead:
                self._leaders += 1
        while True:
            if lead:
                self._lead(ticket)
            if ticket.finished:
                break
            lead = self._wait(ticket)
        if isinstance(ticket.outcome, BaseException):
            raise ticket.outcome
        return ticket.outcome

    def _wait(self, ticket: _Ticket[I]) -> bool:
        """Wait until ``ticket`` is handed the lead (``True``) or finished (``False``)."""
        while True:
            ticket.wake.wait()
            with self._lock:
                ticket.wake.clear()
                if ticket.lead:  # even if finished meanwhile: the role must go on
                    ticket.lead = False
                    return True
                if ticket.finished:
                    return False

    def _lead(self, own: _Ticket[I]) -> None:
        """Commit batches until ``own`` is committed or taken by another leader, then hand
        the role to the oldest waiting item (or give the slot back)."""
        try:
            while not own.taken:
                self._run()
        finally:
            with self._lock:
                own.leading = False
                successor = next((t for t in self._pending if not t.leading), None)
                if successor is not None:
                    successor.lead = successor.leading = True
                else:
                    self._leaders -= 1
            if successor is not None:
                successor.wake.set()

    def _take(self) -> list[_Ticket[I]]:
        """The items waiting now (``max_batch`` at most), out of the queue."""
        with self._lock:
            count = min(self.max_batch, len(self._pending))
            batch = [self._pending.popleft() for _ in range(count)]
            for ticket in batch:
                ticket.taken = True
        return batch

    def _run(self) -> None:
        """Commit one batch, taken when ``commit`` asks for it; if it fails before, every
        item waiting then gets its failure."""
        batch: list[_Ticket[I]] | None = None

        def take() -> list[I]:
            nonlocal batch
            if batch is None:
                batch = self._take()
            return [ticket.item for ticket in batch]

        outcomes: list[Any]
        try:
            outcomes = list(self._commit(take))
            take()  # (a commit that never asked: its batch is empty)
        except BaseException as exc:  # noqa: BLE001 - every handler of the batch raises it
            take()
            outcomes = [_own_copy(exc) for _ in batch or ()]
        assert batch is not None
        with self._lock:
            for ticket, outcome in zip(batch, outcomes, strict=True):
                ticket.outcome, ticket.finished = outcome, True
        for ticket in batch:
            ticket.wake.set()


def _own_copy(exc: BaseException) -> BaseException:
    """``exc`` for one handler: a copy (caused by the same failure), so that the handlers
    raising it do not all add their frames to one traceback."""
    try:
        mine = copy.copy(exc)
    except Exception:  # an exception that cannot be copied: share it
        return exc
    mine.__cause__, mine.__traceback__ = exc.__cause__, None
    return mine
