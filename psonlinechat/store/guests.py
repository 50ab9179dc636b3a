"""``ps_guest`` rows, created as PrestaShop's Guest::setNewGuest does (FACTS §5.2).

The bridge gives each anonymous conversation a new guest row; a signed-in customer reuses
the guest row already linked to the account, or gets a new one linked to it.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from psonlinechat.store.engine import inserted_id
from psonlinechat.store.tables import Tables

#: (name in ``operating_system``, user-agent substring), first match wins (Guest::getOs).
OPERATING_SYSTEMS = (
    ("Windows 10", "Windows NT 10"), ("Windows 8.1", "Windows NT 6.3"),
    ("Windows 8", "Windows NT 6.2"), ("Windows 7", "Windows NT 6.1"),
    ("Windows Vista", "Windows NT 6.0"), ("Windows XP", "Windows NT 5"),
    ("MacOsX", "Mac OS X"), ("Android", "Android"), ("Linux", "X11"),
)
#: (name in ``web_browser``, user-agent substring), first match wins (Guest::getBrowser).
WEB_BROWSERS = (
    ("Chrome", "Chrome/"), ("Safari", "Safari"), ("Safari iPad", "iPad"),
    ("Firefox", "Firefox/"), ("Opera", "Opera"), ("IE 11", "Trident"), ("IE 10", "MSIE 10"),
    ("IE 9", "MSIE 9"), ("IE 8", "MSIE 8"), ("IE 7", "MSIE 7"), ("IE 6", "MSIE 6"),
)
# Guest::getLanguage's pattern, case-sensitive as in PHP: ``fr-FR`` yields ``fr``.
_LANGUAGE_RE = re.compile(r"([a-z]{2}(?:-[a-z]{2})?)\s*(?:;\s*q\s*=\s*(1|0\.[0-9]+))?")


def first_match(user_agent: str | None, table: tuple[tuple[str, str], ...]) -> str | None:
    """The name of the first entry whose substring occurs (case-sensitively) in the user agent."""
    for name, needle in table:
        if user_agent and needle in user_agent:
            return name
    return None


def accept_language_tag(header: str | None) -> str:
    """The language Guest::getLanguage takes from an Accept-Language header.

    Every lower-case ``xx`` or ``xx-yy`` tag with its weight (1 when none); a tag listed
    again keeps its first place and takes its last weight; the first tag of the highest
    weight wins (PHP's arsort is stable). ``""`` when the header has no such tag, as in
    PrestaShop.
    """
    weights: dict[str, float] = {}
    for tag, weight in _LANGUAGE_RE.findall(header or ""):
        weights[tag] = float(weight) if weight else 1.0
    if not weights:
        return ""
    best = max(weights.values())
    return next(tag for tag, weight in weights.items() if weight == best)


def _lookup(conn: sa.Connection, table: sa.Table, name: str | None) -> int | None:
    if name is None:
        return None
    value = conn.execute(sa.select(table.c[0]).where(table.c.name == name)
                         .order_by(table.c[0]).limit(1)).scalar()
    return None if value is None else int(value)


def guest_of_customer(conn: sa.Connection, t: Tables, id_customer: int) -> int | None:
    """The guest row already linked to ``id_customer`` (the lowest id), or ``None``."""
    value = conn.execute(sa.select(t.guest.c.id_guest)
                         .where(t.guest.c.id_customer == id_customer)
                         .order_by(t.guest.c.id_guest).limit(1)).scalar()
    return None if value is None else int(value)


def create_guest(conn: sa.Connection, tables: Tables, *, id_customer: int | None,
                 user_agent: str | None, accept_language: str | None) -> int:
    """The guest id for a new conversation, as Guest::setNewGuest gives it.

    With an ``id_customer`` that already has a guest row, that row is reused and its
    operating system, browser and language are refreshed from this request; otherwise a
    new row is inserted (linked to ``id_customer`` when given, as statsdata's login hook
    links it).
    """
    row = {
        "id_operating_system": _lookup(conn, tables.operating_system,
                                       first_match(user_agent, OPERATING_SYSTEMS)),
        "id_web_browser": _lookup(conn, tables.web_browser, first_match(user_agent, WEB_BROWSERS)),
        "accept_language": accept_language_tag(accept_language),
    }
    existing = guest_of_customer(conn, tables, id_customer) if id_customer else None
    if existing is not None:
        conn.execute(sa.update(tables.guest).where(tables.guest.c.id_guest == existing)
                     .values(row))
        return existing
    row.update(id_customer=id_customer or None, mobile_theme=False)
    return inserted_id(conn.execute(sa.insert(tables.guest).values(row)))


def seed_names(conn: sa.Connection, t: Tables) -> None:
    """Fill ``operating_system`` and ``web_browser`` with PrestaShop's names, when empty
    (the installer does this on a real shop; for the demo and tests).
    """
    for table, entries in ((t.operating_system, OPERATING_SYSTEMS), (t.web_browser, WEB_BROWSERS)):
        if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0:
            conn.execute(sa.insert(table), [{"name": name} for name, _ in entries])
