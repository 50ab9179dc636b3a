"""The module's conversations and their event log (``{prefix}psonlinechat_conversation``
and ``…_message``). Dates are UTC in the module's own tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from psonlinechat.store.tables.columns import OWN_TABLE_ARGS, PreciseDateTime

#: How the names of the history's indexes (schema version 3) end.
HISTORY_INDEX_SUFFIXES = ("conversation_history_customer", "conversation_history_count",
                          "message_body_text")


def declare(md: sa.MetaData, name: str) -> dict[str, sa.Table]:
    """The conversation tables; ``name`` is the own tables' prefix, ``{prefix}psonlinechat_``."""
    conversation = sa.Table(
        name + "conversation", md,
        *_conversation_columns(),
        # the recap (ongoing / finished) and the history table (archived, newest first)
        sa.Index(name + "conversation_status", "id_shop", "status", "last_message_at"),
        sa.Index(name + "conversation_customer", "id_customer"),
        sa.Index(name + "conversation_guest", "id_guest"),
        # the history: a customer's later conversations, and counting lines (version 3)
        sa.Index(name + "conversation_history_customer", "id_customer", "status", "id_shop",
                 "last_message_at"),
        sa.Index(name + "conversation_history_count", "id_shop", "status", "id_customer"),
        **OWN_TABLE_ARGS,
    )
    return {"conversation": conversation, "message": _message(md, name)}


def _conversation_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id_conversation", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id_shop", sa.Integer, nullable=False),
        sa.Column("id_lang", sa.Integer, nullable=False),
        # the signed-in customer, else the guest created for this conversation
        sa.Column("id_customer", sa.Integer, nullable=True),
        sa.Column("id_guest", sa.Integer, nullable=True),
        # ongoing / finished / archived
        sa.Column("status", sa.String(16), nullable=False, default="ongoing"),
        # customer / operator / system, and the employee when an operator ended it
        sa.Column("ended_by", sa.String(16), nullable=True),
        sa.Column("id_employee_ended", sa.Integer, nullable=True),
        # sha256 hex of the visitor's resume token; the token itself is never stored
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        # the sequence number of the conversation's last event
        sa.Column("last_seq", sa.Integer, nullable=False, default=0),
        # the highest seq each side has marked as seen
        sa.Column("customer_seen_seq", sa.Integer, nullable=False, default=0),
        sa.Column("operator_seen_seq", sa.Integer, nullable=False, default=0),
        sa.Column("last_customer_message", sa.Text, nullable=True),
        sa.Column("last_customer_message_at", PreciseDateTime, nullable=True),
        sa.Column("last_message_at", PreciseDateTime, nullable=True),
        sa.Column("page_url", sa.String(2048), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("date_add", PreciseDateTime, nullable=False),
        sa.Column("date_upd", PreciseDateTime, nullable=False),
        sa.Column("date_end", PreciseDateTime, nullable=True),
        sa.Column("date_archived", PreciseDateTime, nullable=True),
    ]


def _message(md: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name + "message", md,
        sa.Column("id_message", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("id_conversation", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        # message / ended / reopened: every logged event of the conversation
        sa.Column("kind", sa.String(16), nullable=False, default="message"),
        # customer / operator / system
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("id_employee", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=False, default=""),
        # the sender's own id of the message: a resend is recognised by it
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("date_add", PreciseDateTime, nullable=False),
        sa.Column("date_seen", PreciseDateTime, nullable=True),
        # "events after N" walks this unique index
        sa.UniqueConstraint("id_conversation", "seq", name=name + "message_seq"),
        sa.UniqueConstraint("id_conversation", "author", "client_id",
                            name=name + "message_client"),
        # the history's search by text (version 3); a plain index where FULLTEXT is unknown
        sa.Index(name + "message_body_text", "body", mysql_prefix="FULLTEXT",
                 sqlite_where=sa.false()),
        **OWN_TABLE_ARGS,
    )
