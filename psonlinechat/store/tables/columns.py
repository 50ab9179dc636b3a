"""Column types and column sets that several table families share."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

#: DATETIME with microseconds on MySQL/MariaDB, a plain DateTime elsewhere.
PreciseDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
#: MEDIUMTEXT on MySQL/MariaDB (what 9.x uses for configuration values).
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

#: The options of every table of the module's own: InnoDB, utf8mb4.
OWN_TABLE_ARGS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                                  "mysql_collate": "utf8mb4_unicode_ci"}


def dates() -> list[sa.Column[Any]]:
    """PrestaShop's ``date_add`` and ``date_upd`` (local time, no fractions)."""
    return [sa.Column("date_add", sa.DateTime, nullable=False),
            sa.Column("date_upd", sa.DateTime, nullable=False)]
