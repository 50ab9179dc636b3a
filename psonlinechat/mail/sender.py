"""The mail sender: a background thread of each app sends the queued mails, off the request
path, and comes back for the retries.

A post commits its message with its mail queued, calls :meth:`MailSender.wake` and answers
at once; the sender's thread then sends every due mail (:meth:`MailQueue.send_pending`),
and sleeps until the earliest pending mail is due (a retry's backoff, or the lease of a mail
another sender claimed), at most :attr:`MailSender.longest_wait` seconds, or until woken
again. So an SMTP outage only delays mail, and a new process (a restart, another worker)
sends what was left as soon as its sender starts: its first round looks at the queue. Any
number of senders may share one database (workers, hosts): the queue's claim gives each
mail to one of them.

The thread starts on first use (:meth:`MailSender.start`, :meth:`MailSender.wake`) and
stops with :meth:`MailSender.close`; a closed sender starts again on its next use. It uses
only threading primitives, made when it starts: under gevent's monkey-patching the thread
is a greenlet and its waits, its SMTP and its database sockets cooperative.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from psonlinechat.errors import ShopError
from psonlinechat.mail.queue import MailQueue
from psonlinechat.mail.transports import Mailer
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import offline_messages as repo

log = logging.getLogger(__name__)

#: The longest a sender sleeps without looking at the queue (a mail a dead process left
#: claimed, or one another worker queued and could not send, is found within this).
LONGEST_WAIT = 60.0
#: The shortest pause between two rounds (no busy loop on a mail due right now).
SHORTEST_WAIT = 0.05
#: Mails one round reads at a time (it reads again while it finds as many).
BATCH = 20
#: What the database failing raises to the sender: it waits and tries again.
_DATABASE_FAILURES = (ShopError, sa.exc.DBAPIError)


class MailSender:
    """Sends one shop database's queued mails from a thread of this process.

    :param shop: the shop's database.
    :param mailer: ``mailer()`` gives the host's mailer for a round (the demo's outbox), or
        ``None`` for the shop's ``PS_MAIL_METHOD`` (read when each mail is sent).
    :param clock: Unix time (tests move it; the queue's backoff follows it).
    :param longest_wait: see :data:`LONGEST_WAIT`.
    """

    def __init__(self, shop: ShopDatabase, mailer: Callable[[], Mailer | None] = lambda: None,
                 *, clock: Callable[[], float] = time.time,
                 longest_wait: float = LONGEST_WAIT) -> None:
        self.shop, self.mailer, self.clock = shop, mailer, clock
        self.longest_wait = longest_wait
        self._lock = threading.Lock()
        self._wake: threading.Event | None = None
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def queue(self) -> MailQueue:
        """The queue as this sender sends it: the host's mailer of the moment, its clock."""
        return MailQueue(self.shop, mailer=self.mailer(), clock=self.clock)

    @property
    def running(self) -> bool:
        """Whether the thread is started (and not closed)."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread if it is not running (idempotent, cheap when it is): its first
        round sends what is due already."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is not None:
                return
            self._wake, self._stop = threading.Event(), threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._wake, self._stop),
                                            name="psonlinechat-mail", daemon=True)
            self._thread.start()
        # Stopped before the interpreter tears its modules down (a gunicorn worker's exit):
        # a thread still waiting then makes logging's and gevent's finalisers fail noisily.
        atexit.register(self.close)

    def wake(self) -> None:
        """A mail was queued (committed): send it now, from the thread (started if needed)."""
        self.start()
        wake = self._wake
        if wake is not None:
            wake.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread: it leaves once the mail it is sending is done (waited for
        ``timeout`` seconds at most; the others stay queued, and one cut short by the
        process's exit is sent again once its lease is over)."""
        with self._lock:
            thread, stop, wake = self._thread, self._stop, self._wake
            self._thread = self._stop = self._wake = None
        if thread is None or stop is None or wake is None:
            return
        atexit.unregister(self.close)
        stop.set()
        wake.set()
        if thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, wake: threading.Event, stop: threading.Event) -> None:
        while not stop.is_set():
            pause = self.run_once(stop)
            wake.wait(pause)
            wake.clear()

    def run_once(self, stop: threading.Event | None = None) -> float:
        """One round: send every due mail; the seconds to wait before the next round (until
        the earliest pending mail is due, within :data:`SHORTEST_WAIT` and
        :attr:`longest_wait`). Raises nothing: a failure is logged and waited out."""
        try:
            queue = self.queue()
            stopping = stop.is_set if stop is not None else (lambda: False)
            while not stopping():
                report = queue.send_pending(BATCH, stop=stopping)
                if report.sent + report.retrying + report.failed + report.skipped < BATCH:
                    break
            due = self._next_due()
        except _DATABASE_FAILURES as exc:
            # INFO: the requests' own outage log (web.outage) tells of the database once.
            log.info("psonlinechat: the mail sender cannot read the queue (%s); trying "
                     "again in %g s", " ".join(str(exc).split())[:300], self.longest_wait)
            return self.longest_wait
        except Exception:  # a bug: logged, and the thread lives on
            log.exception("psonlinechat: the mail sender failed; trying again in %g s",
                          self.longest_wait)
            return self.longest_wait
        if due is None:
            return self.longest_wait
        wait = (due - queue.now()) / dt.timedelta(seconds=1)
        return min(max(wait, SHORTEST_WAIT), self.longest_wait)

    def _next_due(self) -> dt.datetime | None:
        with self.shop.connect() as conn:
            return repo.next_due(conn, self.shop.tables)
