"""The shops, their URLs and languages, read whole for :mod:`psonlinechat.shop.directory`
(which resolves a request's shop from them), and single shops by id.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import sqlalchemy as sa

from psonlinechat.store.tables import Tables


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


@dataclasses.dataclass(frozen=True)
class ShopUrl:
    """One ``shop_url`` row of an active shop."""

    id_shop: int
    domain: str
    domain_ssl: str
    uri: str  # physical_uri + virtual_uri
    main: bool
    active: bool


#: PrestaShop's ``_PS_ADMIN_PROFILE_``: SuperAdmins may act on every shop.
SUPER_ADMIN_PROFILE = 1


def employee_serves_shop(conn: sa.Connection, t: Tables, id_employee: int, id_profile: int,
                         id_shop: int) -> bool:
    """Whether the employee may act on ``id_shop``, as ``Employee::hasAuthOnShop`` decides:
    a SuperAdmin always, anyone else only with an ``employee_shop`` row for it."""
    if id_profile == SUPER_ADMIN_PROFILE:
        return True
    es = t.employee_shop.c
    return conn.execute(sa.select(es.id_shop).where(
        es.id_employee == id_employee, es.id_shop == id_shop)).first() is not None


def active_shops(conn: sa.Connection, t: Tables) -> tuple[list[Shop], list[ShopUrl]]:
    """Every active, not deleted shop (by id) and all their URLs (main ones first), in one query."""
    s, g, u = t.shop.c, t.shop_group.c, t.shop_url.c
    rows = conn.execute(
        sa.select(s.id_shop, s.id_shop_group, g.share_customer, g.share_order, u.domain,
                  u.domain_ssl, u.physical_uri, u.virtual_uri, u.main, u.active)
        .select_from(t.shop.join(t.shop_group, g.id_shop_group == s.id_shop_group)
                     .outerjoin(t.shop_url, u.id_shop == s.id_shop))
        .where(s.active.is_(True), s.deleted.is_(False))
        .order_by(s.id_shop, u.main.desc(), u.id_shop_url)
    ).all()
    shops = {int(row.id_shop): Shop(int(row.id_shop), int(row.id_shop_group),
                                    bool(row.share_customer), bool(row.share_order))
             for row in rows}
    urls = [ShopUrl(int(row.id_shop), row.domain or "", row.domain_ssl or "",
                    (row.physical_uri or "") + (row.virtual_uri or ""), bool(row.main),
                    bool(row.active))
            for row in rows if row.domain is not None or row.domain_ssl is not None]
    return list(shops.values()), urls


def shop_hosts(conn: sa.Connection, t: Tables) -> set[str]:
    """Every host (``domain`` and ``domain_ssl``) any shop answers on."""
    hosts: set[str] = set()
    for domain, domain_ssl in conn.execute(
            sa.select(t.shop_url.c.domain, t.shop_url.c.domain_ssl)):
        hosts.update(host for host in (domain, domain_ssl) if host)
    return hosts


class ActiveLanguage(NamedTuple):
    """One active language a shop offers: ``lang_shop`` ⨝ ``lang``."""

    id_shop: int
    id_lang: int
    iso_code: str  # lower case, as PrestaShop stores it ("fr")


def active_languages(conn: sa.Connection, t: Tables) -> list[ActiveLanguage]:
    """Every active language each shop offers, with its iso code, in one query."""
    return [ActiveLanguage(int(row.id_shop), int(row.id_lang), (row.iso_code or "").lower())
            for row in conn.execute(
                sa.select(t.lang_shop.c.id_shop, t.lang.c.id_lang, t.lang.c.iso_code)
                .join(t.lang_shop, t.lang_shop.c.id_lang == t.lang.c.id_lang)
                .where(t.lang.c.active.is_(True)))]
