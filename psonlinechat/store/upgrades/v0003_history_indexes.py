"""Version 3: the indexes the conversation history table needs on a big shop
(see :mod:`psonlinechat.store.history`)."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables import Tables
from psonlinechat.store.tables.conversations import HISTORY_INDEX_SUFFIXES

VERSION = 3


def upgrade(conn: sa.Connection, tables: Tables) -> None:
    """Create the history's indexes on ``…_conversation`` and ``…_message`` (those that
    exist already are left alone). The FULLTEXT index rebuilds the messages' table."""
    inspector = sa.inspect(conn)
    for table in (tables.conversation, tables.message):
        existing = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if (index.name or "").endswith(HISTORY_INDEX_SUFFIXES) and index.name not in existing:
                index.create(conn)
