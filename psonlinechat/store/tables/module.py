"""The module's ``{prefix}psonlinechat_meta``: schema version and settings revision."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables.columns import OWN_TABLE_ARGS


def declare(md: sa.MetaData, name: str) -> dict[str, sa.Table]:
    """The meta table; ``name`` is the own tables' prefix, ``{prefix}psonlinechat_``."""
    meta = sa.Table(
        name + "meta", md,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        **OWN_TABLE_ARGS,
    )
    return {"meta": meta}
