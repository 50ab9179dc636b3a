"""Archived conversations of one history line (see :mod:`psonlinechat.store.history`):
their whole exchange for the View dialog, and deleting lines. Dates are naive UTC."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa

from psonlinechat.store.conversations import ARCHIVED
from psonlinechat.store.history import parse_key
from psonlinechat.store.tables import Tables


@dataclasses.dataclass(frozen=True)
class Entry:
    """One event of an archived conversation, with the operator's name when one wrote it."""

    kind: str
    author: str
    body: str
    date_add: dt.datetime
    employee_name: str | None


@dataclasses.dataclass(frozen=True)
class Archived:
    """One archived conversation of a line, with its whole exchange."""

    id_conversation: int
    date_add: dt.datetime
    date_end: dt.datetime | None
    ended_by: str | None
    ended_by_name: str | None
    entries: list[Entry]


def _line_condition(t: Tables, key: str, shop_ids: tuple[int, ...],
                    ) -> sa.ColumnElement[bool] | None:
    parsed = parse_key(key)
    if parsed is None or not shop_ids:
        return None
    c = t.conversation.c
    kind, number = parsed
    own = c.id_conversation == number if kind == "c" else c.id_customer == number
    if kind == "c":
        own = sa.and_(own, c.id_customer.is_(None))
    return sa.and_(own, c.status == ARCHIVED, c.id_shop.in_(shop_ids))


def _employee_name(e: Any) -> sa.ColumnElement[str]:
    return e.c.firstname + " " + e.c.lastname


def exchange(conn: sa.Connection, t: Tables, key: str,
             shop_ids: tuple[int, ...]) -> list[Archived]:
    """The archived conversations of the line ``key``, oldest first, each with its events;
    empty when there is no such line in ``shop_ids``."""
    condition = _line_condition(t, key, shop_ids)
    if condition is None:
        return []
    c, m = t.conversation, t.message
    ender, writer = t.employee.alias("ender"), t.employee.alias("writer")
    conversations = conn.execute(
        sa.select(c.c.id_conversation, c.c.date_add, c.c.date_end, c.c.ended_by,
                  _employee_name(ender).label("ended_by_name"))
        .select_from(c.outerjoin(ender, ender.c.id_employee == c.c.id_employee_ended))
        .where(condition).order_by(c.c.last_message_at, c.c.id_conversation)).all()
    ids = [row.id_conversation for row in conversations]
    entries: dict[int, list[Entry]] = {i: [] for i in ids}
    if ids:
        for row in conn.execute(
                sa.select(m.c.id_conversation, m.c.kind, m.c.author, m.c.body, m.c.date_add,
                          _employee_name(writer).label("employee_name"))
                .select_from(m.outerjoin(writer, writer.c.id_employee == m.c.id_employee))
                .where(m.c.id_conversation.in_(ids)).order_by(m.c.id_conversation, m.c.seq)):
            entries[row.id_conversation].append(Entry(row.kind, row.author, row.body or "",
                                                      row.date_add, row.employee_name))
    return [Archived(row.id_conversation, row.date_add, row.date_end, row.ended_by,
                     row.ended_by_name, entries[row.id_conversation]) for row in conversations]


def delete(conn: sa.Connection, t: Tables, keys: list[str], shop_ids: tuple[int, ...]) -> int:
    """Delete the lines ``keys`` (their archived conversations in ``shop_ids`` and their
    events); returns how many conversations went. Unknown keys are ignored."""
    conditions = [cond for cond in (_line_condition(t, key, shop_ids) for key in keys)
                  if cond is not None]
    if not conditions:
        return 0
    c, m = t.conversation, t.message
    ids = conn.execute(sa.select(c.c.id_conversation).where(sa.or_(*conditions))
                       .with_for_update()).scalars().all()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(sa.delete(m).where(m.c.id_conversation.in_(chunk)))
        conn.execute(sa.delete(c).where(c.c.id_conversation.in_(chunk),
                                        c.c.status == ARCHIVED))
    return len(ids)
