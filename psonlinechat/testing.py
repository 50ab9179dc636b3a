"""Helpers for tests and the embedded demo: shop secrets, session rows and ready-made cookies.

Never used against a real shop. Everything writes exactly what PrestaShop writes, so the
bridge's real recognition path is what gets exercised.

- :func:`make_cookie_keys` → :class:`~psonlinechat.prestashop.cookies.CookieKeys` with a
  random defuse ``new_cookie_key`` (valid header and checksum), a 32-character ``cookie_iv``
  and a ``cookie_key``.
- :func:`keys_config` → the ``PSONLINECHAT_*`` Flask config entries for those keys (and a version).
- :func:`front_cookie_name` / :func:`admin_cookie_name` → the full ``PrestaShop-<md5>`` name
  the shop gives its storefront / ``psAdmin`` cookie on a host.
- :func:`sign_in_customer` → creates a ``customer_session`` row (40-hex token) and returns
  ``(cookie_name, cookie_value)`` of a signed-in storefront cookie.
- :func:`sign_in_employee` → creates an ``employee_session`` row and returns
  ``(cookie_name, cookie_value)`` of a ``psAdmin`` cookie (``remote_addr`` as ip2long;
  optional ``last_activity``).
- :func:`anonymous_cookie` → ``(cookie_name, cookie_value)`` of a storefront cookie with no
  customer (language and optional ``id_guest`` only).
- :func:`add_customer` / :func:`add_employee` → insert an account whose password is
  bcrypt-hashed as PrestaShop does (wrapping ``repositories.seed``).

Typical use in a test::

    keys = testing.make_cookie_keys()
    app = Flask(__name__); app.config.update(db.config(**testing.keys_config(keys)))
    OnlineChat(app)
    with db.engine.begin() as conn:
        id_customer = testing.add_customer(conn, db.tables, email="ann@example.test")
        name, value = testing.sign_in_customer(conn, db.tables, keys, "127.0.0.1",
                                               id_customer, id_lang=db.ids["en"])
    client = app.test_client(); client.set_cookie(name, value, domain="127.0.0.1")
"""

from __future__ import annotations

import secrets
import string
from typing import Any

import sqlalchemy as sa

from psonlinechat.prestashop import cookies, passwords
from psonlinechat.shop.identity import ip2long
from psonlinechat.store import customers, employees, seed, sessions
from psonlinechat.store.tables import Tables

#: The PrestaShop version the helpers name cookies for unless told otherwise.
DEFAULT_VERSION = "9.1.0"


def make_cookie_keys() -> cookies.CookieKeys:
    """Fresh random shop secrets, shaped as PrestaShop's installer makes them."""
    alphabet = string.ascii_letters + string.digits
    return cookies.CookieKeys(
        new_cookie_key=cookies.make_key_string(),
        cookie_iv="".join(secrets.choice(alphabet) for _ in range(32)),
        cookie_key="".join(secrets.choice(alphabet) for _ in range(64)),
    )


def keys_config(keys: cookies.CookieKeys, version: str | None = DEFAULT_VERSION) -> dict[str, str]:
    """Flask config entries that give the bridge these secrets (and the shop's version)."""
    config = {"PSONLINECHAT_NEW_COOKIE_KEY": keys.new_cookie_key,
              "PSONLINECHAT_COOKIE_IV": keys.cookie_iv,
              "PSONLINECHAT_COOKIE_KEY": keys.cookie_key}
    if version:
        config["PSONLINECHAT_PRESTASHOP_VERSION"] = version
    return config


def front_cookie_name(host: str, id_shop: int = 1, version: str = DEFAULT_VERSION,
                      shared_urls: tuple[str, ...] = ()) -> str:
    """The storefront cookie's full name for ``host`` (``ps-s<id_shop>``)."""
    return cookies.cookie_name(version, cookies.front_cookie_name(id_shop),
                               cookies.cookie_domain(host, shared_urls))


def admin_cookie_name(host: str, version: str = DEFAULT_VERSION) -> str:
    """The ``psAdmin`` cookie's full name for ``host``."""
    return cookies.cookie_name(version, cookies.ADMIN_COOKIE, cookies.cookie_domain(host))


def add_customer(conn: sa.Connection, t: Tables, *, email: str, password: str = "secret123",
                 firstname: str = "Ann", lastname: str = "Smith", **values: Any) -> int:
    """Insert a customer whose ``passwd`` is the bcrypt hash of ``password``."""
    return seed.add_customer(conn, t, firstname=firstname, lastname=lastname, email=email,
                             passwd=passwords.hash_password(password, rounds=4), **values)


def add_employee(conn: sa.Connection, t: Tables, *, email: str, password: str = "secret123",
                 firstname: str = "Eve", lastname: str = "Operator", **values: Any) -> int:
    """Insert an employee whose ``passwd`` is the bcrypt hash of ``password``."""
    return seed.add_employee(conn, t, firstname=firstname, lastname=lastname, email=email,
                             passwd=passwords.hash_password(password, rounds=4), **values)


def anonymous_cookie(
    keys: cookies.CookieKeys, host: str, *, id_lang: int, id_shop: int = 1,
    id_guest: int | None = None, version: str = DEFAULT_VERSION,
) -> tuple[str, str]:
    """A storefront cookie with a language (and a guest) but nobody signed in."""
    values: dict[str, Any] = {"date_add": "2024-05-01 12:00:00", "id_lang": id_lang}
    if id_guest is not None:
        values["id_guest"] = id_guest
    return front_cookie_name(host, id_shop, version), cookies.encode(values, keys)


def sign_in_customer(conn: sa.Connection, t: Tables, keys: cookies.CookieKeys, host: str,
                     id_customer: int, id_lang: int, *, id_shop: int = 1,
                     id_guest: int | None = None, version: str = DEFAULT_VERSION,
                     extra: dict[str, Any] | None = None) -> tuple[str, str]:
    """Open a customer session as PrestaShop's login does; ``(cookie_name, cookie_value)``.

    :raises LookupError: there is no customer ``id_customer``.
    """
    row = customers.get_customer(conn, t, id_customer)
    if row is None:
        raise LookupError(f"no customer {id_customer}")
    values: dict[str, Any] = {"date_add": "2024-05-01 12:00:00", "id_lang": id_lang}
    if id_guest is not None:
        values["id_guest"] = id_guest
    values.update(id_customer=id_customer, customer_lastname=row.lastname,
                  customer_firstname=row.firstname, passwd=row.passwd, logged=1,
                  email=row.email, is_guest=bool(row.is_guest))
    if t.features.sessions:
        session_id, token = sessions.create(conn, t, "customer", id_customer)
        values.update(session_id=session_id, session_token=token)
    values.update(extra or {})
    return front_cookie_name(host, id_shop, version), cookies.encode(values, keys)


def sign_in_employee(conn: sa.Connection, t: Tables, keys: cookies.CookieKeys, host: str,
                     id_employee: int, *, remote_addr: str | None = "127.0.0.1",
                     last_activity: float | None = None, version: str = DEFAULT_VERSION,
                     extra: dict[str, Any] | None = None) -> tuple[str, str]:
    """Open an employee session as the back-office login does; ``(cookie_name, cookie_value)``.

    ``remote_addr`` ``None`` leaves the field out; ``last_activity`` (Unix time) is set only
    when given, as 1.7.8/8.x do when "stay logged in" is not ticked.

    :raises LookupError: there is no employee ``id_employee``.
    """
    row = employees.get_employee(conn, t, id_employee)
    if row is None:
        raise LookupError(f"no employee {id_employee}")
    values: dict[str, Any] = {"date_add": "2024-05-01 12:00:00", "id_lang": row.id_lang,
                              "id_employee": id_employee, "email": row.email,
                              "profile": row.id_profile, "passwd": row.passwd}
    if remote_addr is not None:
        values["remote_addr"] = ip2long(remote_addr)
    if t.features.sessions:
        session_id, token = sessions.create(conn, t, "employee", id_employee)
        values.update(session_id=session_id, session_token=token)
    if last_activity is not None:
        values["last_activity"] = int(last_activity)
    values.update(extra or {})
    return admin_cookie_name(host, version), cookies.encode(values, keys)
