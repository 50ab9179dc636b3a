"""The conversation history table (guide 3C): archived conversations as lines.

A **line** is one archived conversation of a guest, or one signed-in customer with all
their archived conversations in the shops asked about. A line is represented by its
**head**: the guest's conversation, or the customer's latest archived conversation (no
later one by ``last_message_at``, then id). Listing pages walks the index
``(id_shop, status, last_message_at)`` backwards and probes
``(id_customer, status, id_shop, last_message_at)`` for each candidate head; counting lines
reads ``(id_shop, status, id_customer)`` only; the search by text uses a FULLTEXT index on
the messages (the upgrade to version 3 adds these three). Dates are naive UTC.

Line keys, as the page sends them back: ``c<id_conversation>`` for a guest's line,
``u<id_customer>`` for a customer's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from psonlinechat.store.tables import Tables

ARCHIVED = "archived"
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


def _matching(conn: sa.Connection, t: Tables, c: Any, query: Query,
              ) -> sa.ColumnElement[bool] | None:
    """The condition a head meets when its line matches the search, or ``None``."""
    text = query.search.strip()
    if not text:
        return None
    if text.isdigit():
        number = int(text)
        return sa.or_(c.c.id_customer == number, c.c.id_guest == number,
                      c.c.id_conversation == number)
    cu, m, all_c = t.customer, t.message, t.conversation
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    people = sa.select(cu.c.id_customer).where(sa.or_(
        cu.c.email.like(pattern, escape="\\"), cu.c.firstname.like(pattern, escape="\\"),
        cu.c.lastname.like(pattern, escape="\\"),
        (cu.c.firstname + " " + cu.c.lastname).like(pattern, escape="\\")))
    said = sa.select(m.c.id_conversation).where(_text_match(conn, m, text))
    said_by = sa.select(all_c.c.id_customer).where(
        all_c.c.id_conversation.in_(said), all_c.c.id_customer.is_not(None),
        all_c.c.id_shop.in_(query.shop_ids), all_c.c.status == ARCHIVED)
    return sa.or_(c.c.id_customer.in_(people), c.c.id_conversation.in_(said),
                  c.c.id_customer.in_(said_by))


#: InnoDB's default FULLTEXT stopwords and its shortest indexed word: such words are left
#: to the ``LIKE`` that checks the matches.
_STOPWORDS = frozenset({"a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en",
                       "for", "from", "how", "i", "in", "is", "it", "la", "of", "on", "or",
                       "that", "the", "this", "to", "was", "what", "when", "where", "who",
                       "will", "with", "und", "www"})
_MIN_WORD = 3


def _text_match(conn: sa.Connection, m: sa.Table, text: str) -> sa.ColumnElement[bool]:
    """Messages holding ``text``: the FULLTEXT index finds those with every indexable word
    (MariaDB), then ``LIKE`` checks the text itself (alone on the demo's SQLite)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = m.c.body.like(f"%{escaped}%", escape="\\")
    words = [w for w in re.findall(r"\w+", text.lower())
             if len(w) >= _MIN_WORD and w not in _STOPWORDS]
    if conn.dialect.name in ("mysql", "mariadb") and words:
        return sa.and_(m.c.body.match(" ".join(f"+{word}*" for word in words)), like)
    return like


def page(conn: sa.Connection, t: Tables, query: Query) -> list[Line]:
    """The lines of one page, newest (or oldest) first."""
    if not query.shop_ids:
        return []
    c, head = _heads(t, query.shop_ids)
    matching = _matching(conn, t, c, query)
    where = head if matching is None else sa.and_(head, matching)
    order = (c.c.last_message_at.desc(), c.c.id_conversation.desc()) if query.newest_first \
        else (c.c.last_message_at.asc(), c.c.id_conversation.asc())
    heads = (sa.select(c.c.id_conversation).where(where).order_by(*order)
             .limit(query.per_page).offset((max(query.page, 1) - 1) * query.per_page)
             .subquery("heads"))
    lines = [_line(row) for row in conn.execute(_line_select(t, query.shop_ids, heads))]
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
    """How many lines the query has (all pages)."""
    if not query.shop_ids:
        return 0
    c = t.conversation
    base = sa.and_(c.c.id_shop.in_(query.shop_ids), c.c.status == ARCHIVED)
    if not query.search.strip():
        guests = conn.execute(sa.select(sa.func.count()).select_from(c).where(
            base, c.c.id_customer.is_(None))).scalar_one()
        customers = conn.execute(sa.select(sa.func.count(sa.distinct(c.c.id_customer)))
                                 .where(base, c.c.id_customer.is_not(None))).scalar_one()
        return int(guests) + int(customers)
    alias, head = _heads(t, query.shop_ids)
    matching = _matching(conn, t, alias, query)
    return int(conn.execute(sa.select(sa.func.count()).select_from(alias)
                            .where(head if matching is None else sa.and_(head, matching)))
               .scalar_one())


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
