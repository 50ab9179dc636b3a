"""Customers and their ``customer_session`` rows (PrestaShop 1.7.6.6+)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

import sqlalchemy as sa

from ..tables import Tables


def get_customer(conn: sa.Connection, t: Tables, id_customer: int) -> sa.Row[Any] | None:
    """The customer row (id, shop, names, email, passwd, active, is_guest, deleted), or ``None``."""
    c = t.customer.c
    return conn.execute(
        sa.select(c.id_customer, c.id_shop, c.id_shop_group, c.firstname, c.lastname, c.email,
                  c.passwd, c.active, c.is_guest, c.deleted, c.id_lang)
        .where(c.id_customer == id_customer)
    ).first()


def get_session(conn: sa.Connection, t: Tables, id_session: int) -> sa.Row[Any] | None:
    """The ``customer_session`` row ``id_session`` (id_customer, token), or ``None``."""
    s = t.customer_session.c
    return conn.execute(
        sa.select(s.id_customer, s.token).where(s.id_customer_session == id_session)
    ).first()


def new_token() -> str:
    """A session token as PrestaShop makes one: 40 hexadecimal characters (sha1)."""
    return hashlib.sha1(os.urandom(32)).hexdigest()


def create_session(conn: sa.Connection, t: Tables, id_customer: int,
                   now: dt.datetime | None = None) -> tuple[int, str]:
    """Insert a session row for ``id_customer`` (dates on 8.0+ schemas); its id and token."""
    token = new_token()
    row: dict[str, Any] = {"id_customer": id_customer, "token": token}
    if t.features.session_dates:
        stamp = (now or dt.datetime.now()).replace(microsecond=0)
        row.update(date_add=stamp, date_upd=stamp)
    result = conn.execute(sa.insert(t.customer_session).values(row))
    return int(result.inserted_primary_key[0]), token


def delete_session(conn: sa.Connection, t: Tables, id_session: int) -> None:
    """Delete a session row, as PrestaShop's logout does."""
    conn.execute(sa.delete(t.customer_session)
                 .where(t.customer_session.c.id_customer_session == id_session))
