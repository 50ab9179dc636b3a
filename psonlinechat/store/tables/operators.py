"""The module's operators (``{prefix}psonlinechat_operator``) and the per-shop lock
(``…_shop_lock``) that keeps capacity checks and going offline from interleaving."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables.columns import OWN_TABLE_ARGS, PreciseDateTime


def declare(md: sa.MetaData, name: str) -> dict[str, sa.Table]:
    """The operator tables; ``name`` is the own tables' prefix, ``{prefix}psonlinechat_``."""
    operator = sa.Table(
        name + "operator", md,
        sa.Column("id_employee", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id_shop", sa.Integer, primary_key=True, autoincrement=False),
        # the employee's switch: online or offline
        sa.Column("online", sa.Boolean, nullable=False, default=False),
        # open operator sockets, over every worker
        sa.Column("sockets", sa.Integer, nullable=False, default=0),
        # refreshed by each socket's heartbeat and when a socket closes
        sa.Column("last_seen", PreciseDateTime, nullable=False),
        sa.Column("date_online", PreciseDateTime, nullable=True),
        sa.Index(name + "operator_shop", "id_shop", "online"),
        **OWN_TABLE_ARGS,
    )
    # one row per shop, locked (SELECT ... FOR UPDATE) while a conversation is opened
    # against the capacity or while operators go offline, so that those never interleave
    shop_lock = sa.Table(
        name + "shop_lock", md,
        sa.Column("id_shop", sa.Integer, primary_key=True, autoincrement=False),
        **OWN_TABLE_ARGS,
    )
    return {"operator": operator, "shop_lock": shop_lock}
