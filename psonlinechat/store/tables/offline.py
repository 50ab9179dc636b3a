"""The offline form's messages (``{prefix}psonlinechat_offline_message``) and the queue of
their mails (``…_mail``). Dates are UTC in the module's own tables."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables.columns import OWN_TABLE_ARGS, PreciseDateTime


def declare(md: sa.MetaData, name: str) -> dict[str, sa.Table]:
    """The offline tables; ``name`` is the own tables' prefix, ``{prefix}psonlinechat_``."""
    offline_message = sa.Table(
        name + "offline_message", md,
        sa.Column("id_offline_message", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id_shop", sa.Integer, nullable=False),
        sa.Column("id_lang", sa.Integer, nullable=False),
        # the signed-in customer, else the shop cookie's guest when it has one
        sa.Column("id_customer", sa.Integer, nullable=True),
        sa.Column("id_guest", sa.Integer, nullable=True),
        # "" for a field the merchant did not request or the visitor left empty
        sa.Column("firstname", sa.String(255), nullable=False, default=""),
        sa.Column("lastname", sa.String(255), nullable=False, default=""),
        sa.Column("email", sa.String(255), nullable=False, default=""),
        sa.Column("phone", sa.String(32), nullable=False, default=""),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("page_url", sa.String(2048), nullable=False, default=""),
        sa.Column("ip", sa.String(45), nullable=False, default=""),
        sa.Column("date_add", PreciseDateTime, nullable=False),
        sa.Index(name + "offline_message_shop", "id_shop", "date_add"),
        **OWN_TABLE_ARGS,
    )
    mail = sa.Table(
        name + "mail", md,
        sa.Column("id_mail", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id_offline_message", sa.Integer, nullable=False, unique=True),
        # pending (to send, from next_attempt_at) / sent / failed (gave up)
        sa.Column("state", sa.String(16), nullable=False, default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        # when a sender may claim it next; a claim moves it past the sending's lease
        sa.Column("next_attempt_at", PreciseDateTime, nullable=False),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("date_add", PreciseDateTime, nullable=False),
        sa.Column("date_sent", PreciseDateTime, nullable=True),
        # what send-pending walks: the due pending rows
        sa.Index(name + "mail_due", "state", "next_attempt_at"),
        **OWN_TABLE_ARGS,
    )
    return {"offline_message": offline_message, "mail": mail}
