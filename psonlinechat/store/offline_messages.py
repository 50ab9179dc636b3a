"""The offline form's messages and the queue of their mails (``…_offline_message``,
``…_mail``).

A mail row is ``pending`` until it is ``sent``, or ``failed`` once the sender gave up. A
sender *claims* a due pending row before sending it: one UPDATE that succeeds only if the
row is still as the sender read it (same ``attempts``, still due), and that moves
``next_attempt_at`` past a lease. So two senders never send the same row, and a sender
that dies mid-send leaves the row pending, to be claimed again once the lease is over.
Dates are naive UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from psonlinechat.store.engine import inserted_id
from psonlinechat.store.tables import Tables

PENDING, SENT, FAILED = "pending", "sent", "failed"
STATES = (PENDING, SENT, FAILED)
#: The longest ``last_error`` kept (the column's size).
ERROR_LENGTH = 1000


@dataclasses.dataclass(frozen=True)
class QueuedMail:
    """One row of the mail queue."""

    id_mail: int
    id_offline_message: int
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    date_add: dt.datetime
    date_sent: dt.datetime | None


def insert_message(conn: sa.Connection, t: Tables, values: Mapping[str, Any],
                   now: dt.datetime) -> int:
    """Store one offline message (the columns of ``…_offline_message``); its id.

    :raises sqlalchemy.exc.DBAPIError: the database failed or refused the row.
    """
    result = conn.execute(sa.insert(t.offline_message).values(**values, date_add=now))
    return inserted_id(result)


def get_message(conn: sa.Connection, t: Tables, id_offline_message: int) -> sa.Row | None:
    """The stored message, or ``None``."""
    m = t.offline_message
    return conn.execute(sa.select(m).where(m.c.id_offline_message == id_offline_message)).first()


def enqueue(conn: sa.Connection, t: Tables, id_offline_message: int, now: dt.datetime) -> int:
    """Queue the mail of a stored message, due at once; its id.

    :raises sqlalchemy.exc.DBAPIError: the database failed (or the message is queued already).
    """
    result = conn.execute(sa.insert(t.mail).values(
        id_offline_message=id_offline_message, state=PENDING, attempts=0,
        next_attempt_at=now, date_add=now))
    return inserted_id(result)


def get_mail(conn: sa.Connection, t: Tables, id_mail: int) -> QueuedMail | None:
    """One queued mail, or ``None``."""
    row = conn.execute(sa.select(t.mail).where(t.mail.c.id_mail == id_mail)).first()
    return None if row is None else QueuedMail(**row._mapping)


def due(conn: sa.Connection, t: Tables, now: dt.datetime, limit: int) -> list[QueuedMail]:
    """Pending mails whose time has come, oldest first, at most ``limit``."""
    q = t.mail
    rows = conn.execute(sa.select(q).where(q.c.state == PENDING, q.c.next_attempt_at <= now)
                        .order_by(q.c.next_attempt_at, q.c.id_mail).limit(limit))
    return [QueuedMail(**row._mapping) for row in rows]


def next_due(conn: sa.Connection, t: Tables) -> dt.datetime | None:
    """When the earliest pending mail is due (a claimed one: when its lease ends), or
    ``None`` when no mail is pending."""
    q = t.mail
    return conn.execute(sa.select(sa.func.min(q.c.next_attempt_at))
                        .where(q.c.state == PENDING)).scalar()


def claim(conn: sa.Connection, t: Tables, mail: QueuedMail, now: dt.datetime,
          lease_until: dt.datetime) -> bool:
    """Take ``mail`` (as read) for sending: count the attempt and hold it until
    ``lease_until``. ``False`` when another sender took it first or it is no longer due.
    The caller commits before sending.
    """
    q = t.mail
    done = conn.execute(sa.update(q).where(
        q.c.id_mail == mail.id_mail, q.c.state == PENDING, q.c.attempts == mail.attempts,
        q.c.next_attempt_at <= now,
    ).values(attempts=q.c.attempts + 1, next_attempt_at=lease_until)).rowcount
    return done == 1


def mark_sent(conn: sa.Connection, t: Tables, id_mail: int, now: dt.datetime) -> None:
    """Record that a claimed mail left."""
    q = t.mail
    conn.execute(sa.update(q).where(q.c.id_mail == id_mail, q.c.state == PENDING)
                 .values(state=SENT, date_sent=now, last_error=None))


def mark_failed(conn: sa.Connection, t: Tables, id_mail: int, error: str,
                retry_at: dt.datetime | None) -> None:
    """Record a failed attempt: pending again from ``retry_at``, or ``failed`` for good
    when ``retry_at`` is ``None``."""
    q = t.mail
    values: dict[str, Any] = {"last_error": error[:ERROR_LENGTH]}
    if retry_at is None:
        values["state"] = FAILED
    else:
        values["next_attempt_at"] = retry_at
    conn.execute(sa.update(q).where(q.c.id_mail == id_mail, q.c.state == PENDING)
                 .values(**values))


def requeue_failed(conn: sa.Connection, t: Tables, now: dt.datetime) -> int:
    """Make every ``failed`` mail pending again, due now (keeping its attempts and last
    error); how many."""
    q = t.mail
    return conn.execute(sa.update(q).where(q.c.state == FAILED)
                        .values(state=PENDING, next_attempt_at=now)).rowcount


def listing(conn: sa.Connection, t: Tables, state: str | None = None,
            limit: int = 50) -> list[sa.Row]:
    """The newest queued mails with their message's shop, address and date, newest first."""
    q, m = t.mail, t.offline_message
    query = (sa.select(q, m.c.id_shop, m.c.email)
             .join(m, m.c.id_offline_message == q.c.id_offline_message)
             .order_by(q.c.id_mail.desc()).limit(limit))
    if state is not None:
        query = query.where(q.c.state == state)
    return list(conn.execute(query))
