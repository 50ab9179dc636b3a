"""The shops and groups an employee may pick as the back office's shop context, and the
languages whose texts the Configuration page edits."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from psonlinechat.store.shops import SUPER_ADMIN_PROFILE
from psonlinechat.store.tables import Tables


@dataclasses.dataclass(frozen=True)
class ShopEntry:
    """One active shop, with its group's name."""

    id_shop: int
    name: str
    id_shop_group: int
    group_name: str


@dataclasses.dataclass(frozen=True)
class Language:
    """One active language offered by at least one of the shops asked about."""

    id_lang: int
    iso_code: str
    name: str


def active_shops(conn: sa.Connection, t: Tables) -> list[ShopEntry]:
    """Every active, not deleted shop, by group then shop, in one query."""
    s, g = t.shop.c, t.shop_group.c
    query = (sa.select(s.id_shop, s.name, s.id_shop_group, g.name.label("group_name"))
             .join(t.shop_group, g.id_shop_group == s.id_shop_group)
             .where(s.active.is_(True), s.deleted.is_(False))
             .order_by(s.id_shop_group, s.id_shop))
    return [ShopEntry(int(r.id_shop), r.name or "", int(r.id_shop_group), r.group_name or "")
            for r in conn.execute(query)]


def served_shop_ids(conn: sa.Connection, t: Tables, id_employee: int,
                    id_profile: int) -> set[int] | None:
    """The shops the employee may act on (``employee_shop``); ``None`` for a SuperAdmin,
    who may act on every shop (``Employee::hasAuthOnShop``)."""
    if id_profile == SUPER_ADMIN_PROFILE:
        return None
    es = t.employee_shop.c
    return {int(i) for i in conn.execute(
        sa.select(es.id_shop).where(es.id_employee == id_employee)).scalars()}


def languages(conn: sa.Connection, t: Tables, shop_ids: list[int]) -> list[Language]:
    """The active languages ``shop_ids`` offer, by id."""
    lang, ls = t.lang.c, t.lang_shop.c
    query = (sa.select(lang.id_lang, lang.iso_code, lang.name).distinct()
             .join(t.lang_shop, ls.id_lang == lang.id_lang)
             .where(lang.active.is_(True), ls.id_shop.in_(shop_ids)).order_by(lang.id_lang))
    return [Language(int(r.id_lang), (r.iso_code or "").lower(), r.name or "")
            for r in conn.execute(query)]


def language_iso(conn: sa.Connection, t: Tables, id_lang: int) -> str | None:
    """The iso code of ``id_lang`` (lower case), or ``None``."""
    iso = conn.execute(sa.select(t.lang.c.iso_code).where(t.lang.c.id_lang == id_lang)).scalar()
    return iso.lower() if iso else None
