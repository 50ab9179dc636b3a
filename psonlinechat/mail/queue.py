"""The mail queue: offline messages' mails sent after their commit, retried until they leave.

A mail is queued in the transaction that stores its message
(:func:`psonlinechat.mail.offline.receive`), so it exists exactly when the message does.
:meth:`MailQueue.send` and :meth:`MailQueue.send_pending` then send due rows: each row is
claimed and committed before its mail is built and sent, and marked sent after (see
:mod:`psonlinechat.store.offline_messages`), so two processes never send one mail, and
a process that dies mid-send leaves it to the next ``send_pending`` once the lease is over.
An app calls them from its mail sender's thread (:mod:`psonlinechat.mail.sender`), never
from a request; ``psonlinechat mail send-pending`` calls :meth:`MailQueue.send_pending` too.
A failure (an SMTP outage, sendmail failing) records the attempt and its error and
retries later, waiting twice as long each time (:func:`backoff`); after
:data:`MAX_ATTEMPTS` the row is ``failed`` and stays listed until requeued.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.message
import email.utils
import logging
import time
from collections.abc import Callable

import sqlalchemy as sa

from psonlinechat.errors import MailError, PsOnlineChatError
from psonlinechat.mail import messages
from psonlinechat.mail import settings as mail_settings
from psonlinechat.mail.settings import MailSettings
from psonlinechat.mail.transports import Mailer
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import offline_messages as repo

logger = logging.getLogger(__name__)

#: Seconds before the first retry; each further one waits twice as long...
FIRST_RETRY = 60.0
#: ...up to this many seconds.
LONGEST_RETRY = 6 * 3600.0
#: Attempts before a mail is ``failed`` (about 20 hours of retries).
MAX_ATTEMPTS = 12
#: Seconds a claimed mail stays out of other senders' reach while it is being sent.
LEASE = 300.0


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1, 2, …)."""
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), LONGEST_RETRY)


@dataclasses.dataclass
class SendReport:
    """What one :meth:`MailQueue.send_pending` did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


class MailQueue:
    """Sends the queued mails of one shop database.

    :param shop: the shop's database.
    :param mailer: the host's mailer (the demo's outbox); when ``None``, the shop's
        ``PS_MAIL_METHOD`` chooses the transport for each mail.
    :param transport: ``transport(MailSettings) -> Mailer`` used without ``mailer``.
    :param clock: Unix time (tests move it).
    """

    def __init__(self, shop: ShopDatabase, *, mailer: Mailer | None = None,
                 transport: Callable[[MailSettings], Mailer] = mail_settings.transport,
                 clock: Callable[[], float] = time.time) -> None:
        self.shop, self.mailer, self.transport, self.clock = shop, mailer, transport, clock

    def now(self) -> dt.datetime:
        """The clock's time, naive UTC (as the module's tables keep it)."""
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(tzinfo=None)

    def send(self, id_mail: int) -> str | None:
        """Send one queued mail now if it is due and nobody else holds it.

        :returns: the outcome (``"sent"``, ``"retrying"``, ``"failed"``), ``None`` when
            the mail was not due or another sender took it.
        :raises ShopError: the shop's database failed.
        """
        return self._attempt(id_mail)

    def send_pending(self, limit: int = 100, *,
                     stop: Callable[[], bool] = lambda: False) -> SendReport:
        """Send every due pending mail (at most ``limit``), oldest first.

        :param stop: asked before each mail; when true, the rest stays for later.
        :raises ShopError: the shop's database failed.
        """
        report = SendReport()
        with self.shop.connect() as conn:
            due = repo.due(conn, self.shop.tables, self.now(), limit)
        for mail in due:
            if stop():
                break
            outcome = self._attempt(mail.id_mail, mail)
            if outcome is None:
                report.skipped += 1
            else:
                setattr(report, outcome, getattr(report, outcome) + 1)
        return report

    def requeue_failed(self) -> int:
        """Make the ``failed`` mails pending again, due now; how many.

        :raises ShopError: the shop's database failed.
        """
        with self.shop.connect() as conn:
            count = repo.requeue_failed(conn, self.shop.tables, self.now())
            conn.commit()
        return count

    def _attempt(self, id_mail: int, mail: repo.QueuedMail | None = None) -> str | None:
        """Claim the mail (as read, or read now) and build it on one connection, give that
        connection back, send the mail holding none, then record the outcome on another:
        one connection at a time, and none while the transport takes its time."""
        t = self.shop.tables
        now = self.now()
        with self.shop.connect() as conn:
            mail = mail or repo.get_mail(conn, t, id_mail)
            if mail is None or not repo.claim(conn, t, mail, now,
                                              now + dt.timedelta(seconds=LEASE)):
                conn.rollback()
                return None
            conn.commit()
            try:
                prepared: tuple[email.message.EmailMessage, Mailer] | Exception = (
                    self._prepare(conn, mail))
            except _FAILURES as exc:
                prepared = exc
            finally:
                conn.rollback()
        if isinstance(prepared, Exception):
            return self._failed(mail, prepared)
        message, mailer = prepared
        try:
            mailer.send(message)
        except _FAILURES as exc:
            return self._failed(mail, exc)
        with self.shop.connect() as conn:
            repo.mark_sent(conn, t, mail.id_mail, self.now())
            conn.commit()
        return "sent"

    def _prepare(self, conn: sa.Connection,
                 mail: repo.QueuedMail) -> tuple[email.message.EmailMessage, Mailer]:
        """The message of ``mail`` and the transport it leaves by (the host's mailer, else
        the one the shop's ``PS_MAIL_METHOD`` chooses).

        :raises _Permanent: the message is gone.
        :raises OSError: see :func:`build`; or SMTP without a server.
        """
        row = repo.get_message(conn, self.shop.tables, mail.id_offline_message)
        if row is None:
            raise _Permanent(f"offline message {mail.id_offline_message} no longer exists")
        shop_mail = mail_settings.read(conn, self.shop.tables, row.id_shop)
        notify = self.shop.module_settings(conn, row.id_shop).notify_email
        message = build(row, shop_mail, notify)
        return message, self.mailer or self.transport(shop_mail)

    def _failed(self, mail: repo.QueuedMail, exc: Exception) -> str:
        attempts = mail.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        give_up = attempts >= MAX_ATTEMPTS or isinstance(exc, _Permanent)
        retry_at = None if give_up else self.now() + dt.timedelta(seconds=backoff(attempts))
        with self.shop.connect() as conn:
            repo.mark_failed(conn, self.shop.tables, mail.id_mail, error, retry_at)
            conn.commit()
        logger.warning("psonlinechat: mail %s not sent (attempt %s): %s; %s", mail.id_mail,
                       attempts, error, "giving up" if give_up else f"retrying at {retry_at}")
        return "failed" if give_up else "retrying"


class _Permanent(PsOnlineChatError):
    """A mail that no retry can send (its message is gone)."""


#: What a mail failing to be built or sent raises: recorded, then retried.
#: (Not :class:`ShopError`: the database failing is raised.)
_FAILURES = (OSError, ValueError, MailError, _Permanent)


def build(row: sa.Row, shop_mail: MailSettings, notify: str) -> email.message.EmailMessage:
    """The mail of one stored offline message ``row``: From the shop, To the merchant's
    notification address ``notify`` (else the shop's), Reply-To the visitor's email when
    the form asked for it (else the shop's), text and HTML in the shop's default language.

    :raises OSError: there is no address to send to or from.
    :raises ValueError: a shop setting would put a line break in a header.
    """
    notify = notify or shop_mail.shop_email
    if not shop_mail.shop_email or not notify:
        raise OSError("no sender or recipient: set PS_SHOP_EMAIL and the notification address")
    variables = {"shop_name": shop_mail.shop_name, "firstname": row.firstname,
                 "lastname": row.lastname, "email": row.email, "phone": row.phone,
                 "message": row.message}
    iso = shop_mail.default_iso
    html, text = messages.render("offline_message", iso, variables)
    return messages.build_message(
        sender=email.utils.formataddr((shop_mail.shop_name, shop_mail.shop_email)), to=notify,
        subject_line=messages.subject("offline_message", iso, variables),
        html=html, text=text, reply_to=row.email or shop_mail.shop_email)
