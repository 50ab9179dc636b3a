"""PrestaShop's configuration: ``configuration`` and its multilingual values."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables.columns import LongText, dates


def declare(md: sa.MetaData, p: str) -> dict[str, sa.Table]:
    """The configuration tables for prefix ``p`` in ``md``."""
    configuration = sa.Table(
        p + "configuration", md,
        sa.Column("id_configuration", sa.Integer, primary_key=True),
        sa.Column("id_shop_group", sa.Integer, nullable=True),
        sa.Column("id_shop", sa.Integer, nullable=True),
        sa.Column("name", sa.String(254), nullable=False, index=True),
        sa.Column("value", LongText, nullable=True),
        *dates(),
    )
    configuration_lang = sa.Table(
        p + "configuration_lang", md,
        sa.Column("id_configuration", sa.Integer, primary_key=True),
        sa.Column("id_lang", sa.Integer, primary_key=True),
        sa.Column("value", LongText, nullable=True),
        sa.Column("date_upd", sa.DateTime, nullable=True),
    )
    return {"configuration": configuration, "configuration_lang": configuration_lang}
