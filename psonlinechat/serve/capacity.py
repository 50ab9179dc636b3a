"""What one worker carries, in its log: :class:`CapacityLog`.

Once a minute, and whenever the worker receives ``SIGUSR1`` (``kill -USR1`` of the master
passes it to every worker, after gunicorn reopened its log files), each worker of
``psonlinechat serve`` logs one line: the WebSockets it holds, the messages it committed
per second since its last line, the group commit's batches (how many, their mean and
largest size) and their commit times (p50, p99), and the queue (messages waiting for a
batch, handlers waiting for the database)::

    psonlinechat capacity, worker 29524, last 6.2 s: 1100 sockets open, 894.3 messages/s,
    11 commits of 500.0 messages on average (largest 500), commit p50 252.6 ms p99 334.5 ms,
    queue 295 messages, 0 handlers waiting for the database

(a worker saturated by ``bench/load.py --conversations 1000``, asked by ``SIGUSR1``).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

#: Seconds between two lines.
INTERVAL = 60.0


def capacity_line(sockets: int, figures: dict[str, Any]) -> str:
    """The log line for ``sockets`` open and the chat's ``figures`` (see
    :meth:`psonlinechat.chat.engine.Chat.capacity`)."""
    head = f"psonlinechat capacity, worker {os.getpid()}"

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    return (f"{head}, last {figures['seconds']:.1f} s: {sockets} sockets open, "
            f"{figures['per_second']:.1f} messages/s, {figures['batches']} commits of "
            f"{figures['mean_batch']:.1f} messages on average (largest "
            f"{figures['largest_batch']}), commit p50 {ms(figures['p50_ms'])} p99 "
            f"{ms(figures['p99_ms'])}, queue {figures['queued']} messages, "
            f"{figures['waiting']} handlers waiting for the database")


class CapacityLog:
    """Logs :func:`capacity_line` every ``interval`` seconds and on :meth:`report_soon`,
    from a daemon thread of its own (a greenlet under gevent).

    :param sockets: the WebSockets open now.
    :param figures: the chat's figures since the last call; what it raises is logged as
        the reason they are missing.
    :param write: writes one line to the worker's log.
    """

    def __init__(self, sockets: Callable[[], int],
                 figures: Callable[[], dict[str, Any]], write: Callable[[str], None],
                 interval: float = INTERVAL) -> None:
        self.sockets, self.figures, self.write = sockets, figures, write
        self.interval = interval
        self._stopped = False
        self._asked = threading.Event()
        self._thread: threading.Thread | None = None

    def report(self) -> None:
        """Log one line now (the figures since the previous line)."""
        try:
            line = capacity_line(self.sockets(), self.figures())
        except Exception as exc:  # the database away, say: say so, keep logging
            line = (f"psonlinechat capacity, worker {os.getpid()}: {self.sockets()} "
                    f"sockets open, no chat figures ({type(exc).__name__}: {exc})")
        self.write(line)

    def report_soon(self) -> None:
        """Have the thread log a line now: what a signal handler may call (it only sets an
        event; under gevent a handler runs in the event loop, where nothing may block)."""
        self._asked.set()

    def start(self) -> None:
        """Start the thread: a line every ``interval`` seconds, and one when asked."""
        def lines() -> None:
            while True:
                self._asked.wait(self.interval)
                self._asked.clear()
                if self._stopped:
                    return
                self.report()

        self._thread = threading.Thread(target=lines, daemon=True, name="psonlinechat-capacity")
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the thread and wait for it (``timeout`` seconds at most), so that nothing
        it holds is left to the interpreter's teardown."""
        self._stopped = True
        self._asked.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def on_signal(self, signum: int = signal.SIGUSR1) -> None:
        """Also log a line when ``signum`` arrives, after whatever handled it before."""
        previous = signal.getsignal(signum)

        def handler(number: int, frame: Any) -> None:
            if callable(previous):
                previous(number, frame)
            self.report_soon()

        signal.signal(signum, handler)
