"""The history's search (see :mod:`psonlinechat.store.history`): the heads of the lines whose
customer's name, email or id, guest id, conversation id or messages match.

The small sets are read first and the lines worked out from them, never the other way
round: the customers found by name or email (PrestaShop's ``customer`` table; an email
uses its index), the archived conversations found by id or by text (the FULLTEXT index on
the messages, then ``LIKE`` on what it found), then every archived conversation of the
customers found, whose latest is their line's head. Dates are naive UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import sqlalchemy as sa

from psonlinechat.store.conversations import ARCHIVED
from psonlinechat.store.tables import Tables

#: InnoDB's default FULLTEXT stopwords and its shortest indexed word: such words are left
#: to the ``LIKE`` that checks the matches.
STOPWORDS = frozenset({"a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en",
                       "for", "from", "how", "i", "in", "is", "it", "la", "of", "on", "or",
                       "that", "the", "this", "to", "was", "what", "when", "where", "who",
                       "will", "with", "und", "www"})
MIN_WORD = 3
#: A head: ``(last_message_at, id_conversation)``.
Head = tuple[dt.datetime, int]


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_match(conn: sa.Connection, m: sa.Table, text: str) -> sa.ColumnElement[bool]:
    """Messages holding ``text``. On MariaDB the FULLTEXT index finds those with words
    starting with each indexable word; when ``text`` is more than one such word, ``LIKE``
    then checks the phrase itself. Elsewhere (the demo's SQLite), ``LIKE`` alone."""
    like = m.c.body.like(f"%{_escaped(text)}%", escape="\\")
    words = re.findall(r"\w+", text.lower())
    indexed = [w for w in words if len(w) >= MIN_WORD and w not in STOPWORDS]
    if conn.dialect.name not in ("mysql", "mariadb") or not indexed:
        return like
    match = m.c.body.match(" ".join(f"+{word}*" for word in indexed))
    return match if words == indexed == [text.strip().lower()] else sa.and_(match, like)


def _people(conn: sa.Connection, t: Tables, text: str) -> set[int]:
    """Customers whose email, first name, last name or full name starts with ``text``."""
    cu = t.customer.c
    pattern = _escaped(text) + "%"
    by_email = cu.email.like(pattern, escape="\\")
    where = by_email if "@" in text else sa.or_(
        by_email, cu.firstname.like(pattern, escape="\\"), cu.lastname.like(pattern, escape="\\"),
        (cu.firstname + " " + cu.lastname).like(pattern, escape="\\"))
    return {int(i) for i in conn.execute(sa.select(cu.id_customer).where(where)).scalars()}


def _archived(conn: sa.Connection, t: Tables, shop_ids: tuple[int, ...],
              condition: sa.ColumnElement[bool]) -> list[sa.Row]:
    """The archived conversations in ``shop_ids`` meeting ``condition``, which names its
    rows by id or by customer: shop and status are checked here, so that the database
    looks the rows up by that index instead of walking a shop's archived conversations."""
    c = t.conversation.c
    shops = set(shop_ids)
    return [row for row in conn.execute(
        sa.select(c.id_conversation, c.id_customer, c.last_message_at, c.id_shop, c.status)
        .where(condition)) if row.id_shop in shops and row.status == ARCHIVED]


def _chunks(ids: Iterable[int], size: int = 5000) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def heads(conn: sa.Connection, t: Tables, shop_ids: tuple[int, ...], search: str,
          newest_first: bool = True) -> list[Head]:
    """The heads of the lines matching ``search`` in ``shop_ids``, in date order."""
    text, c, m = search.strip(), t.conversation.c, t.message.c
    if not text or not shop_ids:
        return []
    if text.isdigit():
        number = int(text)
        people = {number}
        direct = _archived(conn, t, shop_ids, sa.or_(c.id_conversation == number,
                                                     c.id_guest == number))
    else:
        people = _people(conn, t, text)
        said = (sa.select(m.id_conversation).where(text_match(conn, t.message, text))
                .distinct().subquery("said"))
        direct = _archived(conn, t, shop_ids, c.id_conversation.in_(
            sa.select(said.c.id_conversation)))
    found: list[Head] = [(row.last_message_at, row.id_conversation) for row in direct
                         if row.id_customer is None]
    people |= {int(row.id_customer) for row in direct if row.id_customer is not None}
    latest: dict[int, Head] = {}
    for chunk in _chunks(people):
        for row in _archived(conn, t, shop_ids, c.id_customer.in_(chunk)):
            head = (row.last_message_at or dt.datetime.min, row.id_conversation)
            if row.id_customer not in latest or head > latest[row.id_customer]:
                latest[row.id_customer] = head
    found.extend(latest.values())
    return sorted(found, key=lambda h: (h[0] or dt.datetime.min, h[1]), reverse=newest_first)
