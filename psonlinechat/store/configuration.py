"""The shop's ``configuration`` table, read and written the way PrestaShop does (FACTS §2).

Reading (:func:`get_many`, :func:`get`): a value is looked up for the shop, then its shop
group, then globally, each per language; only global rows count while multistore is off
(``PS_MULTISHOP_FEATURE_ACTIVE`` truthy *and* more than one ``shop`` row). ``0`` in
``id_shop``/``id_shop_group`` means NULL, a NULL value reads as ``""``, and a key is
multilingual when any of its rows has ``configuration_lang`` rows. PrestaShop keeps
whichever duplicate row it happens to load last; here duplicates are read in
``id_configuration`` order, so the newest row wins, deterministically.

Writing (:func:`update_value`) mimics ``Configuration::updateValue``: update every row of
that exact scope or insert one (a shop row also gets the shop's group), multilingual values
as a NULL ``value`` plus one ``configuration_lang`` row per language, dates in the shop's
time zone (``PS_TIMEZONE``) except the database's ``NOW()`` on an updated language row
(FACTS §8.8), booleans as ``"1"``/``""``. Values not declared HTML lose their
newlines and tags, as PrestaShop's escaper does; texts that need line breaks are written
with ``html=True`` and must be escaped wherever they are output.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa

from psonlinechat.store.engine import inserted_id
from psonlinechat.store.tables import Tables

#: A read value: text for a plain key, ``{id_lang: text}`` for a multilingual one.
Value = str | dict[int, str]
#: What :func:`update_value` accepts.
WriteValue = str | int | float | bool | None | Mapping[int, str | int | float | bool | None]

MULTISHOP_KEY = "PS_MULTISHOP_FEATURE_ACTIVE"
_NAME_RE = re.compile(r"^[a-zA-Z_0-9-]+$")
_TAG_RE = re.compile(r"<!--.*?(?:-->|$)|<[A-Za-z/!?][^>]*(?:>|$)", re.S)


def validate_name(name: str) -> str:
    """Return ``name`` if PrestaShop would accept it as a configuration key.

    :raises ValueError: it is empty, longer than 254 characters or holds anything but
        letters, digits, ``_`` and ``-``.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 254:
        raise ValueError(f"{name!r} is not a configuration key (letters, digits, '_' or '-', "
                         "at most 254 characters)")
    return name


def as_bool(value: str | None) -> bool:
    """Read a stored boolean as PrestaShop does: true when non-empty and not ``"0"``."""
    return bool(value) and value != "0"


def clean_text(value: str) -> str:
    """What PrestaShop's escaper leaves of a non-HTML value: no newlines, no tags."""
    value = re.sub(r"\r\n|\r|\n", "<br />", value)
    return _TAG_RE.sub("", value)


def _stored(value: str | int | float | bool | None, html: bool) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    text = str(value)
    return text if html else clean_text(text)


def multistore_active(conn: sa.Connection, t: Tables) -> bool:
    """Whether multistore counts as active (PrestaShop's ``Shop::isFeatureActive``)."""
    c = t.configuration
    flag = (sa.select(c.c.value)
            .where(c.c.name == MULTISHOP_KEY, sa.func.coalesce(c.c.id_shop, 0) == 0,
                   sa.func.coalesce(c.c.id_shop_group, 0) == 0)
            .order_by(c.c.id_configuration.desc()).limit(1).scalar_subquery())
    shops = sa.select(sa.func.count()).select_from(t.shop).scalar_subquery()
    row = conn.execute(sa.select(flag.label("flag"), shops.label("shops"))).one()
    return as_bool(row.flag) and row.shops > 1


def get_many(conn: sa.Connection, t: Tables, names: Iterable[str], id_shop: int | None = None,
             id_shop_group: int | None = None) -> dict[str, Value]:
    """Resolve ``names`` for a shop in ONE query; keys without any row are left out.

    :param id_shop: the shop whose values are wanted; ``None`` reads global values only.
    :param id_shop_group: the shop's group; ``None`` means "the group of ``id_shop``".
    :returns: ``{name: text}`` for plain keys, ``{name: {id_lang: text}}`` for multilingual ones.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    rows = _rows_of(conn, t, wanted, id_shop)
    if not rows:
        return {}
    by_name: dict[str, list[sa.Row]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    multistore = rows[0].shops > 1 and as_bool(
        _layer(by_name.get(MULTISHOP_KEY, []), None, None).get(0, ""))
    group = id_shop_group if id_shop_group is not None else rows[0].group_of_shop
    multilingual = {row.name for row in rows if row.id_lang is not None}
    result: dict[str, Value] = {}
    for name in wanted:
        own = by_name.get(name, [])
        stack = []
        if multistore and id_shop:
            stack.append(_layer(own, None, id_shop))
        if multistore and group:
            stack.append(_layer(own, group, None))
        stack.append(_layer(own, None, None))
        value = _resolved(stack, name in multilingual)
        if value is not None:
            result[name] = value
    return result


def _rows_of(conn: sa.Connection, t: Tables, wanted: list[str],
             id_shop: int | None) -> Sequence[sa.Row]:
    """The rows of ``wanted`` and of the multistore flag, each with its language rows, the
    number of shops and the group of ``id_shop``; oldest first."""
    c, cl = t.configuration, t.configuration_lang
    shops = sa.select(sa.func.count()).select_from(t.shop).scalar_subquery()
    group_of_shop = (sa.select(t.shop.c.id_shop_group).where(t.shop.c.id_shop == id_shop)
                     .scalar_subquery())
    query = (
        sa.select(c.c.id_configuration, c.c.name, c.c.id_shop, c.c.id_shop_group, c.c.value,
                  cl.c.id_lang, cl.c.value.label("lang_value"), shops.label("shops"),
                  group_of_shop.label("group_of_shop"))
        .select_from(c.outerjoin(cl, cl.c.id_configuration == c.c.id_configuration))
        .where(c.c.name.in_([*wanted, MULTISHOP_KEY]))
        .order_by(c.c.id_configuration, cl.c.id_lang)
    )
    return conn.execute(query).all()


def _resolved(stack: list[dict[int, str]], multilingual: bool) -> Value | None:
    """A key's value from its scopes' layers, the most specific first (per language for a
    multilingual key); ``None`` when no layer holds one."""
    if multilingual:
        langs = sorted({lang for layer in stack for lang in layer if lang})
        if not langs:
            return None
        return {lang: next(layer[lang] for layer in stack if lang in layer) for lang in langs}
    plain = [layer[0] for layer in stack if 0 in layer]
    return plain[0] if plain else None


def _layer(rows: list, group: int | None, shop: int | None) -> dict[int, str]:
    """``{id_lang or 0: text}`` of one key's rows of exactly one scope; the newest row wins."""
    out: dict[int, str] = {}
    for row in rows:
        row_shop, row_group = row.id_shop or None, row.id_shop_group or None
        if shop is not None:
            if row_shop != shop:
                continue
        elif row_shop is not None or row_group != group:
            continue
        if row.id_lang is not None:
            out[int(row.id_lang)] = "" if row.lang_value is None else row.lang_value
        else:
            out[0] = "" if row.value is None else row.value
    return out


def get(conn: sa.Connection, t: Tables, name: str, *, id_lang: int | None = None,
        id_shop: int | None = None, id_shop_group: int | None = None,
        default: str | None = None) -> str | None:
    """One value, as ``Configuration::get`` returns it (``default`` when there is none).

    A multilingual key needs ``id_lang``; without one it reads as missing, as in PrestaShop.
    """
    value = get_many(conn, t, [name], id_shop, id_shop_group).get(name)
    if isinstance(value, dict):
        return value.get(id_lang, default) if id_lang else default
    return default if value is None else value


def shop_now(conn: sa.Connection, t: Tables) -> dt.datetime:
    """Now, in the shop's ``PS_TIMEZONE`` (naive, to the second), as PrestaShop dates rows."""
    name = get(conn, t, "PS_TIMEZONE") or "UTC"
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return dt.datetime.now(zone).replace(tzinfo=None, microsecond=0)


def write_scope(conn: sa.Connection, t: Tables, id_shop: int | None,
                id_shop_group: int | None = None) -> tuple[int | None, int | None]:
    """The ``(id_shop_group, id_shop)`` PrestaShop writes for that scope.

    Global ``(None, None)`` while multistore is off; a shop row also names its group.
    """
    if not multistore_active(conn, t):
        return None, None
    if id_shop:
        group = conn.execute(sa.select(t.shop.c.id_shop_group)
                             .where(t.shop.c.id_shop == id_shop)).scalar()
        return group, id_shop
    return (id_shop_group or None), None


def _scope_filter(c: sa.Table, id_shop_group: int | None,
                  id_shop: int | None) -> sa.ColumnElement[bool]:
    if id_shop:
        return c.c.id_shop == id_shop
    none_shop = sa.func.coalesce(c.c.id_shop, 0) == 0
    if id_shop_group:
        return sa.and_(c.c.id_shop_group == id_shop_group, none_shop)
    return sa.and_(sa.func.coalesce(c.c.id_shop_group, 0) == 0, none_shop)


def update_value(conn: sa.Connection, t: Tables, name: str, value: WriteValue, *,
                 id_shop: int | None = None, id_shop_group: int | None = None,
                 html: bool = False, now: dt.datetime | None = None,
                 scope: tuple[int | None, int | None] | None = None) -> None:
    """Write one key as ``Configuration::updateValue`` does.

    :param value: text, number or boolean; a mapping ``{id_lang: value}`` for a
        multilingual key.
    :param html: keep newlines and markup (escape on output!); otherwise they are removed.
    :param now: the write time (default: now in ``PS_TIMEZONE``); an updated
        ``configuration_lang`` row gets the database's ``NOW()`` instead, as in PrestaShop.
    :param scope: ``(id_shop_group, id_shop)`` already worked out by :func:`write_scope`
        (saves a query per key); by default it is worked out from ``id_shop``/``id_shop_group``.
    :raises ValueError: ``name`` is not a valid configuration key.
    """
    validate_name(name)
    if scope is None:
        scope = write_scope(conn, t, id_shop, id_shop_group)
    group, shop = scope
    now = now or shop_now(conn, t)
    c = t.configuration
    ids = list(conn.execute(sa.select(c.c.id_configuration)
                            .where(c.c.name == name, _scope_filter(c, group, shop))
                            .order_by(c.c.id_configuration)).scalars())
    if not isinstance(value, Mapping):
        text = _stored(value, html)
        if ids:
            conn.execute(sa.update(c).where(c.c.id_configuration.in_(ids))
                         .values(value=text, date_upd=now))
        else:
            conn.execute(sa.insert(c).values(name=name, value=text, id_shop_group=group,
                                             id_shop=shop, date_add=now, date_upd=now))
        return
    if not ids:
        ids = [inserted_id(conn.execute(sa.insert(c).values(
            name=name, value=None, id_shop_group=group, id_shop=shop, date_add=now,
            date_upd=now)))]
    _write_languages(conn, t, ids, {int(id_lang): _stored(item, html)
                                    for id_lang, item in value.items()}, now)


def _write_languages(conn: sa.Connection, t: Tables, ids: list[int], texts: dict[int, str],
                     now: dt.datetime) -> None:
    """Write ``{id_lang: text}`` into ``configuration_lang`` for each configuration row."""
    cl = t.configuration_lang
    for id_lang, text in texts.items():
        for id_configuration in ids:
            # PrestaShop dates an updated language row with the database's NOW() (FACTS §8.8)
            done = conn.execute(sa.update(cl).where(cl.c.id_configuration == id_configuration,
                                                    cl.c.id_lang == id_lang)
                                .values(value=text, date_upd=sa.func.now())).rowcount
            if not done:
                conn.execute(sa.insert(cl).values(id_configuration=id_configuration,
                                                  id_lang=id_lang, value=text, date_upd=now))


def delete(conn: sa.Connection, t: Tables, names: Iterable[str]) -> int:
    """Delete every row (all scopes, all languages) of ``names``; returns how many rows went."""
    names = list(names)
    if not names:
        return 0
    return _delete_where(conn, t, t.configuration.c.name.in_(names))


def delete_prefix(conn: sa.Connection, t: Tables, prefix: str) -> int:
    """Delete every key that starts with ``prefix`` (e.g. ``PSONLINECHAT_``), all scopes."""
    validate_name(prefix)
    return _delete_where(conn, t, t.configuration.c.name.startswith(prefix, autoescape=True))


def _delete_where(conn: sa.Connection, t: Tables, condition: sa.ColumnElement[bool]) -> int:
    c, cl = t.configuration, t.configuration_lang
    ids = conn.execute(sa.select(c.c.id_configuration).where(condition)).scalars().all()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(sa.delete(cl).where(cl.c.id_configuration.in_(chunk)))
        conn.execute(sa.delete(c).where(c.c.id_configuration.in_(chunk)))
    return len(ids)
