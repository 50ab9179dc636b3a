"""Customers and their ``customer_session`` rows (PrestaShop 1.7.6.6+)."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store import sessions
from psonlinechat.store.tables import Tables


def get_customer(conn: sa.Connection, t: Tables, id_customer: int) -> sa.Row | None:
    """The customer row (id, shop, names, email, passwd, active, is_guest, deleted), or ``None``."""
    c = t.customer.c
    return conn.execute(
        sa.select(c.id_customer, c.id_shop, c.id_shop_group, c.firstname, c.lastname, c.email,
                  c.passwd, c.active, c.is_guest, c.deleted, c.id_lang)
        .where(c.id_customer == id_customer)
    ).first()


def get_signed_in(conn: sa.Connection, t: Tables, id_customer: int,
                  id_session: int) -> sa.Row | None:
    """The customer row (as :func:`get_customer`) with ``session_owner`` and ``session_token``
    of ``customer_session`` row ``id_session``, in one query; ``None`` without customer."""
    c = t.customer.c
    return sessions.with_session(
        conn, t, "customer", [c.id_customer, c.id_shop, c.id_shop_group, c.firstname,
                              c.lastname, c.email, c.passwd, c.active, c.is_guest, c.deleted,
                              c.id_lang], id_customer, id_session)
