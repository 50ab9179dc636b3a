"""PrestaShop's languages: ``lang`` and which shops use them, ``lang_shop``."""

from __future__ import annotations

import sqlalchemy as sa


def declare(md: sa.MetaData, p: str) -> dict[str, sa.Table]:
    """The language tables for prefix ``p`` in ``md``."""
    lang = sa.Table(
        p + "lang", md,
        sa.Column("id_lang", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("iso_code", sa.String(2), nullable=False),
        sa.Column("language_code", sa.String(5), nullable=False),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("date_format_lite", sa.String(32), nullable=False, default="Y-m-d"),
        sa.Column("date_format_full", sa.String(32), nullable=False, default="Y-m-d H:i:s"),
        sa.Column("is_rtl", sa.Boolean, nullable=False, default=False),
    )
    lang_shop = sa.Table(
        p + "lang_shop", md,
        sa.Column("id_lang", sa.Integer, primary_key=True),
        sa.Column("id_shop", sa.Integer, primary_key=True),
    )
    return {"lang": lang, "lang_shop": lang_shop}
