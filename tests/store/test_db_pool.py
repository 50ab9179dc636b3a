"""The engine's pool (psonlinechat/store/engine.py) against the real MariaDB: what a connection
costs when it is given back, and what it holds."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from psonlinechat import config as settings
from psonlinechat.store import engine as db


@pytest.fixture
def engine(ps_db):
    """The app's engine over the test shop, with one pooled connection (so every checkout
    gets the same one and its session counters can be compared)."""
    engine = db.create_engine(settings.load(ps_db.config(PSONLINECHAT_POOL_SIZE=1)))
    yield engine
    engine.dispose()


def rollbacks(engine: sa.Engine) -> int:
    """ROLLBACKs the pooled connection has received so far (this read's own included)."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Com_rollback'").one()
    return int(row[1]) + 1  # closing this read rolls back its own transaction


def test_connections_are_read_committed(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT @@tx_isolation").scalar() == "READ-COMMITTED"


def test_a_committed_transaction_is_given_back_without_a_rollback(engine):
    before = rollbacks(engine)
    with engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("SELECT 1")
        db.transaction_ended(conn)
    assert rollbacks(engine) == before + 1  # the counting read's own, nothing else
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SELECT 1")  # not marked: the pool rolls back as usual
    assert rollbacks(engine) == before + 3


def test_a_connection_given_back_mid_transaction_is_still_rolled_back(engine, ps_db):
    c = ps_db.tables.configuration
    raw = engine.raw_connection()  # bypasses the Connection, as a leak or a driver user would
    cursor = raw.cursor()
    cursor.execute(f"INSERT INTO {c.name} (name, value, date_add, date_upd) "
                   "VALUES ('PSONLINECHAT_NOT_COMMITTED', '1', NOW(), NOW())")
    cursor.close()
    raw.close()
    with engine.connect() as conn:
        assert conn.execute(sa.select(c.c.value).where(
            c.c.name == "PSONLINECHAT_NOT_COMMITTED")).first() is None
