"""Messages of many conversations written in one transaction (the chat's group commit).

:func:`lock_conversations` locks every conversation a batch writes into with one locking
read; :func:`append_messages` logs the batch's messages with one multi-row INSERT and
notes them on their conversations with one UPDATE. No read checks the senders' client ids
first: the log's unique index (conversation, author, client id) refuses a resend, and the
caller then posts the batch's messages one by one.

The statements are built once per set of tables and per shape, with bound parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from psonlinechat.store.conversations import CONVERSATION_FIELDS, Conversation, Event
from psonlinechat.store.tables import Tables


def lock_conversations(conn: sa.Connection, t: Tables,
                       ids: Iterable[int]) -> list[tuple[Conversation, str]]:
    """Lock the conversations with these ids until the transaction ends; return each
    found with its token hash.

    Found by primary key only: each id is a point of the key, so no row but those is
    locked, nor waited for (a range over the token's index would wait for the next key,
    often a conversation being opened).
    """
    ids = sorted(set(ids))
    if not ids:
        return []
    split = len(CONVERSATION_FIELDS)
    rows = conn.execute(_lock_statement(t.conversation), {"p_ids": ids})
    return [(Conversation(*row[:split]), row[split]) for row in rows]


@functools.lru_cache(maxsize=64)
def _lock_statement(c: sa.Table) -> sa.Select:
    return (sa.select(*(c.c[name] for name in CONVERSATION_FIELDS), c.c.token_hash)
            .where(c.c.id_conversation.in_(sa.bindparam("p_ids", expanding=True)))
            .with_for_update())


def append_messages(conn: sa.Connection, t: Tables, events: Sequence[Event],
                    now: dt.datetime) -> None:
    """Log ``events`` (messages, each at its conversation's next seq, their conversations
    locked by this transaction) with one INSERT, and note on each conversation its last
    seq, the time of its last message and the customer's last words, with one UPDATE.

    :raises sqlalchemy.exc.IntegrityError: a sender's client id is already in the log
        (or twice in ``events``).
    """
    if not events:
        return
    c, m = t.conversation, t.message
    conn.execute(sa.insert(m), [
        {"id_conversation": e.id_conversation, "seq": e.seq, "kind": e.kind,
         "author": e.author, "id_employee": e.id_employee, "body": e.body,
         "client_id": e.client_id, "date_add": e.date_add} for e in events])
    last_seq: dict[int, int] = {}
    customer: dict[int, str] = {}
    for event in events:
        last_seq[event.id_conversation] = max(event.seq, last_seq.get(event.id_conversation, 0))
        if event.author == "customer":
            customer[event.id_conversation] = event.body
    values: dict = {"last_seq": sa.case(last_seq, value=c.c.id_conversation),
                    "date_upd": now, "last_message_at": now}
    if customer:
        values["last_customer_message"] = sa.case(
            customer, value=c.c.id_conversation, else_=c.c.last_customer_message)
        values["last_customer_message_at"] = sa.case(
            {key: now for key in customer}, value=c.c.id_conversation,
            else_=c.c.last_customer_message_at)
    conn.execute(sa.update(c).where(c.c.id_conversation.in_(list(last_seq))).values(values))
