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


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matches(conn: sa.Connection, t: Tables, query: Query) -> tuple[list[int], list[int]]:
    """The lines the search finds, as two small sets read first (so that the heads are
    looked up from them, never the other way round): the customers and the guests'
    conversations whose name, email, id or messages match."""
    text, cu, m, c = query.search.strip(), t.customer, t.message, t.conversation
    if text.isdigit():
        number = int(text)
        customers: list[sa.Select] = [
            sa.select(sa.literal(number).label("id_customer")),
            sa.select(c.c.id_customer).where(c.c.id_conversation == number)]
        guests: list[sa.Select] = [
            sa.select(sa.literal(number).label("id")),
            sa.select(c.c.id_conversation.label("id")).where(c.c.id_guest == number)]
    else:
        pattern = _like_prefix(text)
        said = (sa.select(m.c.id_conversation).where(_text_match(conn, m, text))
                .subquery("said"))
        by_email = cu.c.email.like(pattern, escape="\\")  # an index range on PrestaShop's side
        customers = [
            sa.select(cu.c.id_customer).where(by_email if "@" in text else sa.or_(
                by_email, cu.c.firstname.like(pattern, escape="\\"),
                cu.c.lastname.like(pattern, escape="\\"),
                (cu.c.firstname + " " + cu.c.lastname).like(pattern, escape="\\"))),
            sa.select(c.c.id_customer).join(said, said.c.id_conversation == c.c.id_conversation)
            .where(c.c.id_customer.is_not(None))]
        guests = [sa.select(said.c.id_conversation.label("id"))]
    found = [sorted({int(i) for i in conn.execute(sa.union(*parts)).scalars() if i})
             for parts in (customers, guests)]
    return found[0], found[1]


def _head_rows(conn: sa.Connection, t: Tables, query: Query,
               found: tuple[list[int], list[int]] | None = None) -> tuple[Any, Any]:
    """``(source, where)``: the heads of the lines the query asks for, with
    ``id_conversation`` and ``last_message_at`` columns (``found``: :func:`_matches`)."""
    c, head = _heads(t, query.shop_ids)
    if not query.search.strip():
        return c, head
    customers, guests = found or _matches(conn, t, query)
    return c, sa.and_(head, sa.or_(c.c.id_customer.in_(customers),
                                   sa.and_(c.c.id_customer.is_(None),
                                           c.c.id_conversation.in_(guests))))


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
    found = _matches(conn, t, query)
    total = count(conn, t, query, found)
    return page(conn, t, query, total, found), total, query.page * query.per_page < total


def page(conn: sa.Connection, t: Tables, query: Query, total: int | None = None,
         found: tuple[list[int], list[int]] | None = None, extra: int = 0) -> list[Line]:
    """The lines of one page, newest (or oldest) first (and ``extra`` more after it).

    :param total: the query's :func:`count`, when known: a page past the middle is then
        read from the other end (a shorter walk down the index).
    """
    if not query.shop_ids:
        return []
    source, where = _head_rows(conn, t, query, found)
    offset = (max(query.page, 1) - 1) * query.per_page
    limit, newest_first = query.per_page + extra, query.newest_first
    if total is not None and offset >= total:
        return []
    if total is not None and offset > total // 2:  # walk from the other end
        end = total - offset
        offset, limit, newest_first = max(0, end - query.per_page), min(limit, end), \
            not newest_first
    columns = (source.c.last_message_at, source.c.id_conversation)
    order = [col.desc() if newest_first else col.asc() for col in columns]
    heads = (sa.select(source.c.id_conversation).where(where).order_by(*order)
             .limit(limit).offset(offset).subquery("heads"))
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


def count(conn: sa.Connection, t: Tables, query: Query,
          found: tuple[list[int], list[int]] | None = None) -> int:
    """How many lines the query has (all pages): without a search, one walk of the index
    ``(id_shop, status, id_customer)``: guests' conversations plus distinct customers."""
    if not query.shop_ids:
        return 0
    c = t.conversation
    if not query.search.strip():
        return int(conn.execute(
            sa.select(sa.func.count() - sa.func.count(c.c.id_customer)
                      + sa.func.count(sa.distinct(c.c.id_customer)))
            .where(c.c.id_shop.in_(query.shop_ids), c.c.status == ARCHIVED)).scalar_one())
    source, where = _head_rows(conn, t, query, found)
    return int(conn.execute(sa.select(sa.func.count()).select_from(source).where(where))
               .scalar_one())
