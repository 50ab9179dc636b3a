"""PrestaShop's shops: ``shop_group``, ``shop`` and ``shop_url``."""

from __future__ import annotations

import sqlalchemy as sa


def declare(md: sa.MetaData, p: str) -> dict[str, sa.Table]:
    """The shop tables for prefix ``p`` in ``md``."""
    return {"shop_group": _shop_group(md, p), "shop": _shop(md, p), "shop_url": _shop_url(md, p)}


def _shop_group(md: sa.MetaData, p: str) -> sa.Table:
    return sa.Table(
        p + "shop_group", md,
        sa.Column("id_shop_group", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("color", sa.String(50), nullable=False, default=""),
        sa.Column("share_customer", sa.Boolean, nullable=False, default=False),
        sa.Column("share_order", sa.Boolean, nullable=False, default=False),
        sa.Column("share_stock", sa.Boolean, nullable=False, default=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    )


def _shop(md: sa.MetaData, p: str) -> sa.Table:
    return sa.Table(
        p + "shop", md,
        sa.Column("id_shop", sa.Integer, primary_key=True),
        sa.Column("id_shop_group", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("color", sa.String(50), nullable=False, default=""),
        sa.Column("id_category", sa.Integer, nullable=False, default=2),
        sa.Column("theme_name", sa.String(255), nullable=False, default="classic"),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    )


def _shop_url(md: sa.MetaData, p: str) -> sa.Table:
    return sa.Table(
        p + "shop_url", md,
        sa.Column("id_shop_url", sa.Integer, primary_key=True),
        sa.Column("id_shop", sa.Integer, nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("domain_ssl", sa.String(255), nullable=False),
        sa.Column("physical_uri", sa.String(64), nullable=False, default="/"),
        sa.Column("virtual_uri", sa.String(64), nullable=False, default=""),
        sa.Column("main", sa.Boolean, nullable=False, default=True),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
    )
