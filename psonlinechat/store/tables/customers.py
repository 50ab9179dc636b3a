"""PrestaShop's storefront people: ``customer``, its sessions and addresses, and
``guest`` with the ``operating_system`` and ``web_browser`` it points to."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables.columns import dates


def declare(md: sa.MetaData, p: str, *, session_dates: bool) -> dict[str, sa.Table]:
    """The customer and guest tables for prefix ``p`` in ``md``.

    :param session_dates: ``customer_session`` has ``date_add``/``date_upd`` (8.0+).
    """
    return {
        "customer": _customer(md, p),
        "customer_session": sa.Table(
            p + "customer_session", md,
            sa.Column("id_customer_session", sa.Integer, primary_key=True),
            sa.Column("id_customer", sa.Integer, nullable=True),
            sa.Column("token", sa.String(40), nullable=True),
            *(dates() if session_dates else []),
        ),
        "guest": _guest(md, p),
        "operating_system": sa.Table(
            p + "operating_system", md,
            sa.Column("id_operating_system", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64), nullable=True),
        ),
        "web_browser": sa.Table(
            p + "web_browser", md,
            sa.Column("id_web_browser", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64), nullable=True),
        ),
        "address": _address(md, p),
    }


def _customer(md: sa.MetaData, p: str) -> sa.Table:
    return sa.Table(
        p + "customer", md,
        sa.Column("id_customer", sa.Integer, primary_key=True),
        sa.Column("id_shop_group", sa.Integer, nullable=False, default=1),
        sa.Column("id_shop", sa.Integer, nullable=False, default=1),
        sa.Column("id_gender", sa.Integer, nullable=False, default=0),
        sa.Column("id_default_group", sa.Integer, nullable=False, default=3),
        sa.Column("id_lang", sa.Integer, nullable=True),
        sa.Column("firstname", sa.String(255), nullable=False),
        sa.Column("lastname", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("passwd", sa.String(255), nullable=False),
        sa.Column("secure_key", sa.String(32), nullable=False, default="-1"),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("is_guest", sa.Boolean, nullable=False, default=False),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
        *dates(),
    )


def _guest(md: sa.MetaData, p: str) -> sa.Table:
    return sa.Table(
        p + "guest", md,
        sa.Column("id_guest", sa.Integer, primary_key=True),
        sa.Column("id_operating_system", sa.Integer, nullable=True),
        sa.Column("id_web_browser", sa.Integer, nullable=True),
        sa.Column("id_customer", sa.Integer, nullable=True),
        sa.Column("javascript", sa.Boolean, nullable=True, default=False),
        sa.Column("accept_language", sa.String(8), nullable=True),
        sa.Column("mobile_theme", sa.Boolean, nullable=False, default=False),
    )


def _address(md: sa.MetaData, p: str) -> sa.Table:
    return sa.Table(
        p + "address", md,
        sa.Column("id_address", sa.Integer, primary_key=True),
        sa.Column("id_country", sa.Integer, nullable=False, default=8),
        sa.Column("id_customer", sa.Integer, nullable=False, default=0),
        sa.Column("alias", sa.String(32), nullable=False, default="My address"),
        sa.Column("lastname", sa.String(255), nullable=False),
        sa.Column("firstname", sa.String(255), nullable=False),
        sa.Column("address1", sa.String(128), nullable=False, default=""),
        sa.Column("city", sa.String(64), nullable=False, default=""),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("phone_mobile", sa.String(32), nullable=True),
        *dates(),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    )
