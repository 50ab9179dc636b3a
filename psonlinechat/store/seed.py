"""Sample shop rows, written the way PrestaShop writes them: for the demo and the tests.

Never called on a real shop. Each function inserts one thing and returns its id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from psonlinechat.store.engine import inserted_id
from psonlinechat.store.tables import Tables


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def add_shop_group(conn: sa.Connection, t: Tables, name: str = "Default", **values: Any) -> int:
    """Insert a ``shop_group`` row."""
    row = {"name": name, "color": "", "share_customer": False, "share_order": False,
           "share_stock": False, "active": True, "deleted": False, **values}
    return inserted_id(conn.execute(sa.insert(t.shop_group).values(row)))


def add_shop(conn: sa.Connection, t: Tables, id_shop_group: int, name: str,
             domain: str = "localhost", physical_uri: str = "/") -> int:
    """Insert a ``shop`` row and its main ``shop_url``."""
    id_shop = inserted_id(conn.execute(sa.insert(t.shop).values(
        id_shop_group=id_shop_group, name=name, color="", id_category=2,
        theme_name="classic", active=True, deleted=False)))
    conn.execute(sa.insert(t.shop_url).values(
        id_shop=id_shop, domain=domain, domain_ssl=domain, physical_uri=physical_uri,
        virtual_uri="", main=True, active=True))
    return id_shop


def add_lang(conn: sa.Connection, t: Tables, iso_code: str, name: str,
             shops: list[int], active: bool = True) -> int:
    """Insert a ``lang`` row offered by ``shops``."""
    locale = {"en": "en-US", "fr": "fr-FR", "de": "de-DE", "es": "es-ES", "it": "it-IT"}.get(
        iso_code, f"{iso_code}-{iso_code.upper()}")
    id_lang = inserted_id(conn.execute(sa.insert(t.lang).values(
        name=name, active=active, iso_code=iso_code, language_code=locale.lower(),
        locale=locale, date_format_lite="Y-m-d", date_format_full="Y-m-d H:i:s",
        is_rtl=False)))
    for id_shop in shops:
        conn.execute(sa.insert(t.lang_shop).values(id_lang=id_lang, id_shop=id_shop))
    return id_lang


def add_configuration(conn: sa.Connection, t: Tables, name: str, value: str | None,
                      id_shop_group: int | None = None, id_shop: int | None = None,
                      lang_values: dict[int, str] | None = None) -> int:
    """Insert a configuration row (and its ``configuration_lang`` rows when multilingual)."""
    now = _now()
    id_configuration = inserted_id(conn.execute(sa.insert(t.configuration).values(
        name=name, value=None if lang_values else value, id_shop_group=id_shop_group,
        id_shop=id_shop, date_add=now, date_upd=now)))
    for id_lang, text in (lang_values or {}).items():
        conn.execute(sa.insert(t.configuration_lang).values(
            id_configuration=id_configuration, id_lang=id_lang, value=text, date_upd=now))
    return id_configuration


def add_customer(conn: sa.Connection, t: Tables, *, firstname: str, lastname: str,
                 email: str, passwd: str, id_shop: int = 1, id_shop_group: int = 1,
                 id_lang: int | None = 1, **values: Any) -> int:
    """Insert a ``customer`` row; ``passwd`` is the stored hash."""
    now = _now()
    row = {"id_shop": id_shop, "id_shop_group": id_shop_group, "id_gender": 0,
           "id_default_group": 3, "id_lang": id_lang, "firstname": firstname,
           "lastname": lastname, "email": email, "passwd": passwd, "secure_key": "-1",
           "active": True, "is_guest": False, "deleted": False, "date_add": now,
           "date_upd": now, **values}
    return inserted_id(conn.execute(sa.insert(t.customer).values(row)))


def add_address(conn: sa.Connection, t: Tables, id_customer: int, *, phone: str | None = None,
                phone_mobile: str | None = None, **values: Any) -> int:
    """Insert an ``address`` row of a customer."""
    now = _now()
    row = {"id_customer": id_customer, "id_country": 8, "alias": "My address",
           "firstname": "", "lastname": "", "address1": "1 rue de la Paix", "city": "Paris",
           "phone": phone, "phone_mobile": phone_mobile, "date_add": now, "date_upd": now,
           "active": True, "deleted": False, **values}
    return inserted_id(conn.execute(sa.insert(t.address).values(row)))


def add_employee(conn: sa.Connection, t: Tables, *, firstname: str, lastname: str,
                 email: str, passwd: str, id_lang: int = 1, active: bool = True,
                 id_profile: int = 1) -> int:
    """Insert an ``employee`` row; ``passwd`` is the stored hash."""
    return inserted_id(conn.execute(sa.insert(t.employee).values(
        firstname=firstname, lastname=lastname, email=email, passwd=passwd,
        id_lang=id_lang, active=active, id_profile=id_profile)))
