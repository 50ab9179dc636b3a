"""One exception tree, drawn in errors.py; database failures become ShopError in one place,
chained to the driver's error."""

from __future__ import annotations

import re
import socket
import threading

import pytest
import sqlalchemy as sa

from psonlinechat import errors
from psonlinechat.chat import protocol
from psonlinechat.errors import ChatError, PsOnlineChatError, ShopError
from psonlinechat.shop import database, installer
from psonlinechat.store import tables as tables_module

CLASSES = {cls.__name__: cls for cls in (
    PsOnlineChatError, errors.ConfigError, ShopError, errors.SettingsError, errors.MailError,
    errors.ServeError, ChatError, errors.ConversationArchived, protocol.ProtocolError)}


def drawn_tree() -> dict[str, str | None]:
    """Each class of the tree in errors.py's docstring, with the parent it is drawn under."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in errors.__doc__.splitlines():
        match = re.match(r"^(\s*)(?:[├└]── )?([A-Z][A-Za-z]+Error|ConversationArchived)\b",
                         line.replace("│", " "))
        if not match:
            continue
        depth = len(match.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
    return parents


def test_the_drawing_is_the_tree():
    drawn = drawn_tree()
    assert set(drawn) == set(CLASSES)
    for name, cls in CLASSES.items():
        parent = drawn[name]
        assert (cls.__bases__[0].__name__ if parent else None) == parent, name
        assert parent is None or cls.__bases__ == (CLASSES[parent],), name


def test_the_chats_refusals_are_not_the_wires():
    assert not issubclass(ChatError, protocol.ProtocolError)
    assert not issubclass(protocol.ProtocolError, ChatError)
    from psonlinechat.chat import model
    from psonlinechat.mail import messages
    from psonlinechat.serve import command

    # where they were raised from before, the same classes
    assert model.ChatError is ChatError
    assert model.ConversationArchived is errors.ConversationArchived
    assert messages.MailError is errors.MailError and command.ServeError is errors.ServeError
    with pytest.raises(PsOnlineChatError):
        messages.subject("no_such_mail", "en", {})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


def test_an_unreachable_database_is_a_lost_shop_error_chained_to_the_driver():
    engine = sa.create_engine(f"mysql+pymysql://root@127.0.0.1:{closed_port()}/x",
                              poolclass=sa.pool.NullPool)
    with pytest.raises(ShopError, match="cannot reach the shop's database") as raised, \
            database.connection(engine):
        pass
    assert raised.value.lost and raised.value.code == 2003
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)
    # the installer's connection is the same one: chained, not "from None"
    with pytest.raises(ShopError) as raised:
        installer.install(engine, tables_module.build("ps_"))
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)


def test_a_failure_while_in_use_is_a_shop_error_and_a_bug_stays_itself(core_db):
    engine = core_db.engine
    # not the database failing but a bad statement: raised as it is
    with pytest.raises(sa.exc.ProgrammingError), database.connection(engine) as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table"))
    c = core_db.tables.configuration
    with engine.connect() as holder:
        holder.begin()
        holder.execute(sa.select(c).where(c.c.id_configuration == 1).with_for_update())
        with pytest.raises(ShopError) as raised, database.connection(engine) as conn:
            conn.execute(sa.text("SET SESSION innodb_lock_wait_timeout = 1"))
            conn.execute(sa.select(c).where(c.c.id_configuration == 1).with_for_update())
        holder.rollback()
    assert raised.value.code == 1205 and not raised.value.lost
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)


def test_a_connection_killed_in_use_is_lost_and_never_lent_again(core_db):
    engine = sa.create_engine(core_db.url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            victim = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
        with pytest.raises(ShopError) as raised, database.connection(engine) as conn:
            _kill_during(core_db, victim, lambda: conn.execute(sa.text("SELECT SLEEP(5)")))
        assert raised.value.lost
        assert isinstance(raised.value.__cause__, sa.exc.DBAPIError)
        with engine.connect() as conn:  # a fresh one, not the killed one
            assert conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one() != victim
    finally:
        engine.dispose()


def _kill_during(db, victim: int, statement) -> None:
    """Run ``statement()`` while another connection kills connection ``victim``."""
    def kill() -> None:
        with db.engine.connect() as killer:
            for _ in range(100):
                busy = killer.execute(sa.text(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                    "WHERE ID = :id AND INFO LIKE 'SELECT SLEEP%'"), {"id": victim}).scalar()
                if busy:
                    break
                threading.Event().wait(0.05)
            killer.execute(sa.text(f"KILL CONNECTION {int(victim)}"))

    thread = threading.Thread(target=kill)
    thread.start()
    try:
        statement()
    finally:
        thread.join()
