"""Version 2: the offline form's messages and the queue of their mails."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables import Tables

VERSION = 2


def upgrade(conn: sa.Connection, tables: Tables) -> None:
    """Create ``…_offline_message`` and ``…_mail`` (left alone where they exist)."""
    tables.offline_message.create(conn, checkfirst=True)
    tables.mail.create(conn, checkfirst=True)
