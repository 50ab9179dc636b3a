"""The conversation history table (guide 3C): archived conversations as lines.

A **line** is one archived conversation of a guest, or one signed-in customer with all
their archived conversations in the shops asked about. A line is represented by its
**head**: the guest's conversation, or the customer's latest archived conversation (no
later one by ``last_message_at``, then id). Listing pages walks the index
``(id_shop, status, last_message_at)`` backwards and probes
``(id_customer, status, id_shop, last_message_at)`` for each candidate head; counting lines
reads ``(id_shop, status, id_customer)`` only; a search is
:mod:`psonlinechat.store.history_search` (by text through a FULLTEXT index on the messages;
the upgrade to version 3 adds these three indexes). Dates are naive UTC.

Line keys, as the page sends them back: ``c<id_conversation>`` for a guest's line,
``u<id_customer>`` for a customer's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from psonlinechat.store import history_search
from psonlinechat.store.conversations import ARCHIVED
from psonlinechat.store.tables import Tables

_KEY_RE = re.compile(r"^([cu])([1-9][0-9]{0,9})$")


@dataclasses.dataclass(frozen=True)
class Line:
    """One line of the table: who, when, and the customer's last message."""

    key: str
    id_conversation: int
    id_customer: int | None
    id_guest: int | None
    firstname: str | None
    lastname: str | None
    email: str | None
    phone: str | None
    last_message_at: dt.datetime | None
    last_customer_message: str | None
    conversations: int


@dataclasses.dataclass(frozen=True)
class Query:
    """What the employee asked: the shops, a search, the order and the page."""

    shop_ids: tuple[int, ...]
    search: str = ""
    newest_first: bool = True
    page: int = 1
    per_page: int = 20


def parse_key(key: str) -> tuple[str, int] | None:
    """``("c", id_conversation)`` or ``("u", id_customer)``, or ``None``."""
    match = _KEY_RE.match(key or "")
    return (match.group(1), int(match.group(2))) if match else None


def _heads(t: Tables, shop_ids: tuple[int, ...]) -> tuple[Any, sa.ColumnElement[bool]]:
    """The conversation alias and the condition "archived head of a line in ``shop_ids``"."""
    c = t.conversation.alias("c")
    later = t.conversation.alias("later")
    newer = sa.exists().where(
        later.c.id_customer == c.c.id_customer, later.c.status == ARCHIVED,
        later.c.id_shop.in_(shop_ids),
        sa.or_(later.c.last_message_at > c.c.last_message_at,
               sa.and_(later.c.last_message_at == c.c.last_message_at,
                       later.c.id_conversation > c.c.id_conversation)))
    head = sa.and_(c.c.id_shop.in_(shop_ids), c.c.status == ARCHIVED,
                   sa.or_(c.c.id_customer.is_(None), ~newer))
    return c, head


def listing(conn: sa.Connection, t: Tables, query: Query) -> tuple[list[Line], int | None, bool]:
    """One page of lines, how many lines there are in all, and whether a next page exists.

    A search counts its lines (its sets are small and read once). The whole history is
    not counted here (that walks every archived conversation): ``None``, and one more
    line is read to tell whether a next page exists; :func:`count` gives the total.
    """
    if not query.shop_ids:
        return [], 0, False
    if not query.search.strip():
        lines = page(conn, t, query, extra=1)
        return lines[:query.per_page], None, len(lines) > query.per_page
    found = history_search.heads(conn, t, query.shop_ids, query.search, query.newest_first)
    start = (max(query.page, 1) - 1) * query.per_page
    chosen = [head[1] for head in found[start:start + query.per_page]]
    return (_lines_of(conn, t, query, chosen), len(found),
            start + query.per_page < len(found))


def page(conn: sa.Connection, t: Tables, query: Query, extra: int = 0) -> list[Line]:
    """The lines of one page, newest (or oldest) first (and ``extra`` more after it)."""
    if not query.shop_ids:
        return []
    start = (max(query.page, 1) - 1) * query.per_page
    if query.search.strip():
        found = history_search.heads(conn, t, query.shop_ids, query.search, query.newest_first)
        return _lines_of(conn, t, query, [h[1] for h in found[start:start + query.per_page
                                                              + extra]])
    c, head = _heads(t, query.shop_ids)
    columns = (c.c.last_message_at, c.c.id_conversation)
    order = [col.desc() if query.newest_first else col.asc() for col in columns]
    heads = (sa.select(c.c.id_conversation).where(head).order_by(*order)
             .limit(query.per_page + extra).offset(start).subquery("heads"))
    return _ordered(query, conn.execute(_line_select(t, query.shop_ids, heads)))


def _lines_of(conn: sa.Connection, t: Tables, query: Query, ids: list[int]) -> list[Line]:
    if not ids:
        return []
    c = t.conversation
    heads = sa.select(c.c.id_conversation).where(c.c.id_conversation.in_(ids)).subquery("heads")
    return _ordered(query, conn.execute(_line_select(t, query.shop_ids, heads)))


def _ordered(query: Query, rows: Any) -> list[Line]:
    lines = [_line(row) for row in rows]
    return sorted(lines, key=lambda line: (line.last_message_at or dt.datetime.min,
                                           line.id_conversation), reverse=query.newest_first)


def _line_select(t: Tables, shop_ids: tuple[int, ...], heads: sa.Subquery) -> sa.Select:
    c, cu, a, other = t.conversation, t.customer, t.address, t.conversation.alias("other")
    phone = (sa.select(sa.func.coalesce(sa.func.nullif(a.c.phone_mobile, ""), a.c.phone))
             .where(a.c.id_customer == c.c.id_customer, a.c.deleted.is_(False))
             .order_by(a.c.id_address.desc()).limit(1).scalar_subquery())
    count = (sa.select(sa.func.count()).select_from(other)
             .where(other.c.id_customer == c.c.id_customer, other.c.status == ARCHIVED,
                    other.c.id_shop.in_(shop_ids)).scalar_subquery())
    # unchecked: the employee's own history of the shop's customers, for the back office
    return (sa.select(c.c.id_conversation, c.c.id_customer, c.c.id_guest, cu.c.firstname,
                      cu.c.lastname, cu.c.email, phone.label("phone"), c.c.last_message_at,
                      c.c.last_customer_message, count.label("conversations"))
            .select_from(c.join(heads, heads.c.id_conversation == c.c.id_conversation)
                         .outerjoin(cu, cu.c.id_customer == c.c.id_customer)))


def _line(row: sa.Row) -> Line:
    signed_in = row.id_customer is not None
    key = f"u{row.id_customer}" if signed_in else f"c{row.id_conversation}"
    return Line(key, int(row.id_conversation), row.id_customer, row.id_guest,
                row.firstname if signed_in else None, row.lastname if signed_in else None,
                row.email if signed_in else None, row.phone if signed_in else None,
                row.last_message_at, row.last_customer_message,
                int(row.conversations) if signed_in else 1)


def count(conn: sa.Connection, t: Tables, query: Query) -> int:
    """How many lines the query has (all pages): without a search, one walk of the index
    ``(id_shop, status, id_customer)``: guests' conversations plus distinct customers."""
    if not query.shop_ids:
        return 0
    if query.search.strip():
        return len(history_search.heads(conn, t, query.shop_ids, query.search))
    c = t.conversation
    return int(conn.execute(
        sa.select(sa.func.count() - sa.func.count(c.c.id_customer)
                  + sa.func.count(sa.distinct(c.c.id_customer)))
        .where(c.c.id_shop.in_(query.shop_ids), c.c.status == ARCHIVED)).scalar_one())
