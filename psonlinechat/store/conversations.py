"""Conversations and their event log (``psonlinechat_conversation``, ``psonlinechat_message``).

Every function takes the connection (inside the caller's transaction) and the tables
first. Dates are naive UTC datetimes. ``*_for_update`` reads are locking reads: they take
row locks until the transaction ends and always see the latest committed rows.

The statements of a message's path (:func:`lock_for_post`, :func:`append`) are built once
per set of tables with bound parameters and reused: SQLAlchemy then neither rebuilds
them nor recomputes their cache key for each message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import sqlalchemy as sa

from psonlinechat.store.engine import inserted_id
from psonlinechat.store.tables import Tables

#: Statuses a conversation goes through.
ONGOING, FINISHED, ARCHIVED = "ongoing", "finished", "archived"


@dataclasses.dataclass(frozen=True)
class Conversation:
    """One row of ``psonlinechat_conversation``, with the customer's name when signed in."""

    id_conversation: int
    id_shop: int
    id_lang: int
    id_customer: int | None
    id_guest: int | None
    status: str
    ended_by: str | None
    id_employee_ended: int | None
    last_seq: int
    customer_seen_seq: int
    operator_seen_seq: int
    last_customer_message: str | None
    last_customer_message_at: dt.datetime | None
    last_message_at: dt.datetime | None
    page_url: str | None
    user_agent: str | None
    date_add: dt.datetime
    date_end: dt.datetime | None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclasses.dataclass(frozen=True)
class Event:
    """One logged event (a row of ``psonlinechat_message``)."""

    id_conversation: int
    seq: int
    kind: str
    author: str
    id_employee: int | None
    body: str
    client_id: str | None
    date_add: dt.datetime
    date_seen: dt.datetime | None


#: The columns of a :class:`Conversation` read from its own table (the customer's name,
#: email and phone are joined in).
CONVERSATION_FIELDS = [f.name for f in dataclasses.fields(Conversation)][:-4]
_EVENT_FIELDS = [f.name for f in dataclasses.fields(Event)]


def _conversation_select(t: Tables) -> sa.Select:
    c, cu, a = t.conversation, t.customer, t.address
    # The phone of the customer's latest address (mobile first), as the back office shows it.
    phone = (sa.select(sa.func.coalesce(sa.func.nullif(a.c.phone_mobile, ""), a.c.phone))
             .where(a.c.id_customer == c.c.id_customer, a.c.deleted.is_(False))
             .order_by(a.c.id_address.desc()).limit(1).scalar_subquery())
    # unchecked: reads the customer's name and contact for the operator's recap, never shown
    # to visitors
    return (sa.select(*(c.c[name] for name in CONVERSATION_FIELDS), cu.c.firstname,
                      cu.c.lastname, cu.c.email, phone.label("phone"))
            .select_from(c.outerjoin(cu, cu.c.id_customer == c.c.id_customer)))


def _conversation(row: sa.Row | None) -> Conversation | None:
    return None if row is None else Conversation(**row._mapping)


def lock_shop(conn: sa.Connection, t: Tables, id_shop: int) -> None:
    """Lock the shop's row of ``shop_lock`` until the transaction ends, creating it first.

    Opening a conversation against the capacity, switching an operator online or offline
    (and archiving), and ending or reopening a conversation hold this lock, so they never
    interleave. Lock order: this lock first, then conversation rows; a message's
    transaction locks one conversation row and never this lock.
    """
    stmt = sa.select(t.shop_lock.c.id_shop).where(t.shop_lock.c.id_shop == id_shop)
    if conn.execute(stmt.with_for_update()).first() is not None:
        return
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(t.shop_lock).values(id_shop=id_shop))
    except sa.exc.IntegrityError:
        pass  # another transaction created it first
    conn.execute(stmt.with_for_update()).first()


def count_ongoing(conn: sa.Connection, t: Tables, id_shop: int, *, locking: bool = False) -> int:
    """How many conversations of the shop are ongoing (a locking read if ``locking``)."""
    c = t.conversation
    stmt = (sa.select(sa.func.count()).select_from(c)
            .where(c.c.id_shop == id_shop, c.c.status == ONGOING))
    if locking:
        stmt = stmt.with_for_update(read=True)
    return conn.execute(stmt).scalar_one()


def insert(conn: sa.Connection, t: Tables, *, id_shop: int, id_lang: int,
           id_customer: int | None, id_guest: int | None, token_hash: str,
           page_url: str | None, user_agent: str | None, now: dt.datetime) -> int:
    """Insert an ongoing conversation with an empty log; return its id."""
    result = conn.execute(sa.insert(t.conversation).values(
        id_shop=id_shop, id_lang=id_lang, id_customer=id_customer, id_guest=id_guest,
        status=ONGOING, token_hash=token_hash, last_seq=0, customer_seen_seq=0,
        operator_seen_seq=0, page_url=page_url, user_agent=user_agent,
        date_add=now, date_upd=now))
    return inserted_id(result)


def get(conn: sa.Connection, t: Tables, id_conversation: int) -> Conversation | None:
    """The conversation with this id, or ``None``."""
    stmt = _conversation_select(t).where(t.conversation.c.id_conversation == id_conversation)
    return _conversation(conn.execute(stmt).first())


def get_for_update(conn: sa.Connection, t: Tables, id_conversation: int) -> Conversation | None:
    """The conversation with this id, its row locked until the transaction ends."""
    c = t.conversation
    stmt = (sa.select(*(c.c[name] for name in CONVERSATION_FIELDS))
            .where(c.c.id_conversation == id_conversation).with_for_update())
    return _conversation(conn.execute(stmt).first())


def find_by_token(conn: sa.Connection, t: Tables, token_hash: str) -> Conversation | None:
    """The conversation whose resume token hashes to ``token_hash``, or ``None``."""
    stmt = _conversation_select(t).where(t.conversation.c.token_hash == token_hash)
    return _conversation(conn.execute(stmt).first())


def list_active(conn: sa.Connection, t: Tables, id_shop: int) -> list[Conversation]:
    """The shop's ongoing and finished conversations, oldest first."""
    c = t.conversation
    stmt = (_conversation_select(t)
            .where(c.c.id_shop == id_shop, c.c.status.in_([ONGOING, FINISHED]))
            .order_by(c.c.id_conversation))
    return [Conversation(**row._mapping) for row in conn.execute(stmt)]


def lock_with_status(conn: sa.Connection, t: Tables, id_shop: int,
                     status: str) -> list[tuple[int, int]]:
    """``(id_conversation, last_seq)`` of the shop's conversations in ``status``, their
    rows locked until the transaction ends (in id order)."""
    c = t.conversation
    stmt = (sa.select(c.c.id_conversation, c.c.last_seq)
            .where(c.c.id_shop == id_shop, c.c.status == status)
            .order_by(c.c.id_conversation).with_for_update())
    return [(row[0], row[1]) for row in conn.execute(stmt)]


def lock_for_post(conn: sa.Connection, t: Tables, *, author: str, client_id: str,
                  id_conversation: int | None = None, token_hash: str | None = None
                  ) -> tuple[Conversation, Event | None] | None:
    """Lock the conversation (by id or by token) and find the sender's earlier event with
    ``client_id``, in one locking read; ``None`` when there is no such conversation.

    :returns: the locked conversation and the event already posted with this client id
        (``None`` when it is new).
    """
    by_id, by_token = _lock_statements(t.conversation, t.message)
    if id_conversation is not None:
        row = conn.execute(by_id, {"p_author": author, "p_client_id": client_id,
                                   "p_key": id_conversation}).first()
    else:
        row = conn.execute(by_token, {"p_author": author, "p_client_id": client_id,
                                      "p_key": token_hash}).first()
    if row is None:
        return None
    split = len(CONVERSATION_FIELDS)
    conversation = Conversation(*row[:split])
    earlier = None if row[split + 1] is None else Event(*row[split:])
    return conversation, earlier


@functools.lru_cache(maxsize=64)
def _lock_statements(c: sa.Table, m: sa.Table) -> tuple[sa.Select, sa.Select]:
    """:func:`lock_for_post`'s two locking reads (by id, by token), built once."""
    sent = ((m.c.id_conversation == c.c.id_conversation) & (m.c.author == sa.bindparam("p_author"))
            & (m.c.client_id == sa.bindparam("p_client_id")))
    stmt = (sa.select(*(c.c[name] for name in CONVERSATION_FIELDS),
                      *(m.c[name] for name in _EVENT_FIELDS))
            .select_from(c.outerjoin(m, sent)))
    key: sa.BindParameter[Any] = sa.bindparam("p_key")
    return (stmt.where(c.c.id_conversation == key).with_for_update(),
            stmt.where(c.c.token_hash == key).with_for_update())


@functools.lru_cache(maxsize=64)
def _append_statements(c: sa.Table, m: sa.Table) -> tuple[sa.Insert, sa.Update]:
    """:func:`append`'s insert and update; the update sets the columns it is given."""
    return sa.insert(m), sa.update(c).where(c.c.id_conversation == sa.bindparam("p_key"))


def status_values(status: str, now: dt.datetime, *, ended_by: str | None = None,
                  id_employee_ended: int | None = None) -> dict:
    """The conversation's columns that moving to ``status`` writes."""
    values: dict = {"status": status, "date_upd": now}
    if status == FINISHED:
        values.update(ended_by=ended_by, id_employee_ended=id_employee_ended, date_end=now)
    elif status == ONGOING:
        values.update(ended_by=None, id_employee_ended=None, date_end=None)
    elif status == ARCHIVED:
        values.update(date_archived=now)
    return values


def append(conn: sa.Connection, t: Tables, *, id_conversation: int, seq: int, kind: str,
           author: str, now: dt.datetime, body: str = "", id_employee: int | None = None,
           client_id: str | None = None, **columns: object) -> Event:
    """Log one event at ``seq`` of a conversation whose row the transaction holds locked
    (its ``last_seq`` + 1), and note it on the conversation in the same update: its
    ``last_seq``, a message's time and the customer's last words, and ``columns``.

    :raises sqlalchemy.exc.IntegrityError: the sender's client id is already in the log.
    """
    insert, update = _append_statements(t.conversation, t.message)
    conn.execute(insert, {"id_conversation": id_conversation, "seq": seq, "kind": kind,
                          "author": author, "id_employee": id_employee, "body": body,
                          "client_id": client_id, "date_add": now})
    values: dict = {"p_key": id_conversation, "last_seq": seq, "date_upd": now, **columns}
    if kind == "message":
        values["last_message_at"] = now
        if author == "customer":
            values.update(last_customer_message=body, last_customer_message_at=now)
    conn.execute(update, values)
    return Event(id_conversation, seq, kind, author, id_employee, body, client_id, now, None)


def events_after(conn: sa.Connection, t: Tables, id_conversation: int, after_seq: int,
                 until_seq: int | None = None) -> list[Event]:
    """The logged events with ``after_seq < seq [<= until_seq]``, in order."""
    m = t.message
    stmt = sa.select(*(m.c[name] for name in _EVENT_FIELDS)).where(
        m.c.id_conversation == id_conversation, m.c.seq > after_seq)
    if until_seq is not None:
        stmt = stmt.where(m.c.seq <= until_seq)
    return [Event(**row._mapping) for row in conn.execute(stmt.order_by(m.c.seq))]


def set_status(conn: sa.Connection, t: Tables, id_conversation: int, status: str, *,
               now: dt.datetime, ended_by: str | None = None,
               id_employee_ended: int | None = None) -> None:
    """Move a conversation to ``status``; ending records who ended it and when."""
    values = status_values(status, now, ended_by=ended_by, id_employee_ended=id_employee_ended)
    c = t.conversation
    conn.execute(sa.update(c).where(c.c.id_conversation == id_conversation).values(**values))


def mark_seen(conn: sa.Connection, t: Tables, locked: Conversation, *, by: str, seq: int,
              now: dt.datetime) -> int:
    """Mark the other side's messages up to ``seq`` as seen by ``by`` in ``locked`` (a
    conversation whose row the transaction holds locked, as it is now); return the new mark.

    The mark only moves forward and never past the log's end.
    """
    c, m = t.conversation, t.message
    column = c.c.customer_seen_seq if by == "customer" else c.c.operator_seen_seq
    before = locked.customer_seen_seq if by == "customer" else locked.operator_seen_seq
    new_mark = max(before, min(seq, locked.last_seq))
    if new_mark > before:
        key = locked.id_conversation
        conn.execute(sa.update(c).where(c.c.id_conversation == key)
                     .values({column.name: new_mark}))
        other = "operator" if by == "customer" else "customer"
        conn.execute(sa.update(m).where(
            m.c.id_conversation == key, m.c.seq <= new_mark,
            m.c.author == other, m.c.date_seen.is_(None)).values(date_seen=now))
    return new_mark
