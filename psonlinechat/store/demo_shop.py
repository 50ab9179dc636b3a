"""The embedded demo shop's queries: what PrestaShop's login pages read and write.

Never called on a real shop (the demo creates its own SQLite database). Sign-in reads the
customer or employee by email and re-saves a legacy password hash as bcrypt; session rows
are :mod:`.customers` and :mod:`.employees`' business. The storefront lists the shop's
languages.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from psonlinechat.store.tables import Tables


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def shop_count(conn: sa.Connection, t: Tables) -> int:
    """How many shops the database holds (0 before the demo seeds it)."""
    return conn.execute(sa.select(sa.func.count()).select_from(t.shop)).scalar_one()


def shop_ids(conn: sa.Connection, t: Tables, name: str) -> tuple[int, int] | None:
    """``(id_shop, id_shop_group)`` of the active shop called ``name``, or ``None``."""
    row = conn.execute(sa.select(t.shop.c.id_shop, t.shop.c.id_shop_group)
                       .where(t.shop.c.name == name, t.shop.c.deleted.is_(False))
                       .order_by(t.shop.c.id_shop).limit(1)).first()
    return (row.id_shop, row.id_shop_group) if row else None


def shop_languages(conn: sa.Connection, t: Tables, id_shop: int) -> list[sa.Row]:
    """The active languages a shop offers (``id_lang``, ``iso_code``, ``name``), by id."""
    return list(conn.execute(
        sa.select(t.lang.c.id_lang, t.lang.c.iso_code, t.lang.c.name)
        .join(t.lang_shop, t.lang_shop.c.id_lang == t.lang.c.id_lang)
        .where(t.lang_shop.c.id_shop == id_shop, t.lang.c.active.is_(True))
        .order_by(t.lang.c.id_lang)))


def customer_for_login(conn: sa.Connection, t: Tables, email: str, id_shop: int) -> sa.Row | None:
    """The registered, active, not deleted customer of ``id_shop`` with ``email``, or ``None``.

    Matches emails without regard to case, as MySQL's collation does for PrestaShop.
    """
    c = t.customer.c
    return conn.execute(
        sa.select(c.id_customer, c.firstname, c.lastname, c.email, c.passwd, c.id_lang)
        .where(sa.func.lower(c.email) == email.lower(), c.id_shop == id_shop,
               c.is_guest.is_(False), c.deleted.is_(False), c.active.is_(True))
        .order_by(c.id_customer).limit(1)).first()


def set_customer_password(conn: sa.Connection, t: Tables, id_customer: int, passwd: str) -> None:
    """Store a customer's new password hash (and ``date_upd``, as ObjectModel::update does)."""
    conn.execute(sa.update(t.customer).where(t.customer.c.id_customer == id_customer)
                 .values(passwd=passwd, date_upd=_now()))


def employee_for_login(conn: sa.Connection, t: Tables, email: str) -> sa.Row | None:
    """The active employee with ``email``, or ``None``."""
    e = t.employee.c
    return conn.execute(
        sa.select(e.id_employee, e.firstname, e.lastname, e.email, e.passwd, e.id_lang,
                  e.id_profile)
        .where(sa.func.lower(e.email) == email.lower(), e.active.is_(True))
        .order_by(e.id_employee).limit(1)).first()


def set_employee_password(conn: sa.Connection, t: Tables, id_employee: int, passwd: str) -> None:
    """Store an employee's new password hash."""
    conn.execute(sa.update(t.employee).where(t.employee.c.id_employee == id_employee)
                 .values(passwd=passwd))
