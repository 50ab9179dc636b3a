"""Shops as PrestaShop resolves them: from the request host and path, with their URLs
and languages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import sqlalchemy as sa

from ..tables import Tables


@dataclasses.dataclass(frozen=True)
class Shop:
    """One shop and the sharing flags of its group."""

    id_shop: int
    id_shop_group: int
    share_customer: bool
    share_order: bool


def get_shop(conn: sa.Connection, t: Tables, id_shop: int) -> Shop | None:
    """The active, not deleted shop ``id_shop``, or ``None``."""
    row = conn.execute(
        sa.select(t.shop.c.id_shop, t.shop.c.id_shop_group, t.shop_group.c.share_customer,
                  t.shop_group.c.share_order)
        .join(t.shop_group, t.shop_group.c.id_shop_group == t.shop.c.id_shop_group)
        .where(t.shop.c.id_shop == id_shop, t.shop.c.active.is_(True),
               t.shop.c.deleted.is_(False))
    ).first()
    if row is None:
        return None
    return Shop(int(row.id_shop), int(row.id_shop_group), bool(row.share_customer),
                bool(row.share_order))


def find_shop_id(conn: sa.Connection, t: Tables, host: str, uri: str) -> int | None:
    """The shop whose ``shop_url`` serves ``host`` and ``uri``, as Shop::initialize finds it.

    ``domain`` or ``domain_ssl`` must equal the host without its port (then with it), and
    ``uri`` must start (case-insensitively) with ``physical_uri + virtual_uri``; the longest
    such URI wins. ``None`` when nothing matches.
    """
    host = (host or "").strip()
    bare = host.split(":", 1)[0] if not host.startswith("[") else host
    tries = [bare] + ([host] if host != bare else [])
    url = t.shop_url
    for candidate in tries:
        if not candidate:
            continue
        rows = conn.execute(
            sa.select(url.c.id_shop, url.c.physical_uri, url.c.virtual_uri)
            .join(t.shop, t.shop.c.id_shop == url.c.id_shop)
            .where(sa.or_(url.c.domain == candidate, url.c.domain_ssl == candidate),
                   t.shop.c.active.is_(True), t.shop.c.deleted.is_(False))
        ).all()
        matches = sorted(((row.physical_uri or "") + (row.virtual_uri or ""), int(row.id_shop))
                         for row in rows)
        matches.sort(key=lambda item: len(item[0]), reverse=True)
        for prefix, id_shop in matches:
            if (uri or "/").lower().startswith(prefix.lower()):
                return id_shop
    return None


def shop_urls(conn: sa.Connection, t: Tables, id_shops: Iterable[int]) -> list[tuple[str, str, str]]:
    """``(domain, domain_ssl, physical_uri)`` of every URL of the given shops, main ones first."""
    rows = conn.execute(
        sa.select(t.shop_url.c.domain, t.shop_url.c.domain_ssl, t.shop_url.c.physical_uri)
        .where(t.shop_url.c.id_shop.in_(list(id_shops)))
        .order_by(t.shop_url.c.main.desc(), t.shop_url.c.id_shop_url)
    ).all()
    return [(row.domain, row.domain_ssl, row.physical_uri) for row in rows]


def group_shop_ids(conn: sa.Connection, t: Tables, id_shop_group: int) -> list[int]:
    """The shops of a shop group."""
    return [int(row[0]) for row in conn.execute(
        sa.select(t.shop.c.id_shop).where(t.shop.c.id_shop_group == id_shop_group))]


def shop_hosts(conn: sa.Connection, t: Tables) -> set[str]:
    """Every host (``domain`` and ``domain_ssl``) any shop answers on."""
    hosts: set[str] = set()
    for domain, domain_ssl in conn.execute(
            sa.select(t.shop_url.c.domain, t.shop_url.c.domain_ssl)):
        hosts.update(host for host in (domain, domain_ssl) if host)
    return hosts


def offers_language(conn: sa.Connection, t: Tables, id_shop: int, id_lang: int) -> bool:
    """Whether ``id_shop`` offers the active language ``id_lang`` (lang_shop ⨝ lang.active)."""
    return conn.execute(
        sa.select(t.lang.c.id_lang)
        .join(t.lang_shop, t.lang_shop.c.id_lang == t.lang.c.id_lang)
        .where(t.lang.c.id_lang == id_lang, t.lang_shop.c.id_shop == id_shop,
               t.lang.c.active.is_(True))
    ).first() is not None


def first_shop_id(conn: sa.Connection, t: Tables) -> int | None:
    """The lowest id among active, not deleted shops (when PS_SHOP_DEFAULT names none)."""
    value = conn.execute(sa.select(sa.func.min(t.shop.c.id_shop))
                         .where(t.shop.c.active.is_(True), t.shop.c.deleted.is_(False))).scalar()
    return None if value is None else int(value)
