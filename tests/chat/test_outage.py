"""Sockets survive a short database outage: a transaction that loses its connection runs
again on a fresh one, with growing jittered pauses, for a bounded time, then gives up with
ShopError."""

from __future__ import annotations

import logging
import secrets
import socket
import time

import pytest
import sqlalchemy as sa

from psonlinechat import config
from psonlinechat.chat.broker import InMemoryBroker
from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.retry import Retry
from psonlinechat.errors import ShopError
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import engine as store_engine
from psonlinechat.store import tables as tables_module
from psonlinechat.store.guests import create_guest
from tests.support.chatclient import ChatShop


class FakeClock:
    """``monotonic`` and ``sleep`` for :class:`Retry`: sleeping moves the clock at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def lost() -> ShopError:
    return ShopError("cannot reach the shop's database: (2013, 'Lost connection')",
                     code=2013, lost=True)


# --- the policy, without a database ------------------------------------------------------

def test_a_lost_connection_is_tried_again_with_growing_jittered_pauses_within_the_bound():
    clock = FakeClock()
    retry = Retry(sleep=clock.sleep, monotonic=clock.monotonic)
    attempts = []

    def attempt():
        attempts.append(clock.now)
        raise lost()

    with pytest.raises(ShopError):
        retry.run(attempt)
    assert clock.now == pytest.approx(10.0)  # about ten seconds in all, then it gives up
    assert len(attempts) == len(clock.pauses) + 1 > 5
    ceilings = [min(retry.longest_pause, retry.first_pause * 2 ** n)
                for n in range(len(clock.pauses))]
    for pause, ceiling in zip(clock.pauses[:-1], ceilings, strict=False):
        assert ceiling / 2 <= pause <= ceiling  # backoff, shortened at random
    assert len(set(clock.pauses[:-1])) > 1


def test_the_work_comes_back_when_the_database_does(caplog):
    clock = FakeClock()
    retry = Retry(sleep=clock.sleep, monotonic=clock.monotonic, uniform=lambda a, b: b)
    failures = iter([lost(), lost(), lost()])

    def attempt():
        failure = next(failures, None)
        if failure:
            raise failure
        return "answered"

    with caplog.at_level(logging.WARNING, logger="psonlinechat.chat.retry"):
        assert retry.run(attempt) == "answered"
    assert clock.pauses == [0.05, 0.1, 0.2]
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "cannot reach the shop's database: (2013, 'Lost connection')",
        "the shop's database answers again after 0.4 s"]


def test_a_deadlock_runs_again_at_once_and_other_failures_not_at_all():
    clock = FakeClock()
    retry = Retry(sleep=clock.sleep, monotonic=clock.monotonic)
    calls = []

    def deadlocked():
        calls.append(1)
        raise ShopError("the shop's database failed: (1213, 'Deadlock')", code=1213)

    with pytest.raises(ShopError):
        retry.run(deadlocked)
    assert len(calls) == 4 and clock.pauses == []
    calls.clear()

    def refused():
        calls.append(1)
        raise ShopError("the shop's database failed: (1146, 'no table')", code=1146)

    with pytest.raises(ShopError):
        retry.run(refused)
    assert len(calls) == 1 and clock.pauses == []


# --- an unreachable database ------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


def unreachable_context(retry: Retry) -> ChatContext:
    settings = config.from_mapping({
        "PSONLINECHAT_DATABASE_URL": f"mysql+pymysql://root@127.0.0.1:{closed_port()}/shop",
        "PSONLINECHAT_SECRET_KEY": secrets.token_hex(16)})
    shop = ShopDatabase(settings, store_engine.create_engine(settings))
    return ChatContext(connection=shop.connect, tables=tables_module.build("ps_"),
                       broker=InMemoryBroker(), settings=settings,
                       module_settings=shop.module_settings, create_guest=create_guest,
                       retry=retry)


def test_a_transaction_on_an_unreachable_database_gives_up_after_the_bound():
    clock = FakeClock()
    ctx = unreachable_context(Retry(sleep=clock.sleep, monotonic=clock.monotonic))
    ran = []
    with pytest.raises(ShopError, match="cannot reach the shop's database") as raised:
        ctx.transaction(ran.append)
    assert ran == [] and clock.now == pytest.approx(10.0) and len(clock.pauses) > 5
    assert raised.value.lost and isinstance(raised.value.__cause__, sa.exc.OperationalError)
    clock.now, clock.pauses = 0.0, []
    with pytest.raises(ShopError):
        ctx.read(ran.append)
    assert ran == [] and clock.now == pytest.approx(10.0)
    assert ctx.waiting == 0 and ctx._gate.acquire(blocking=False)  # nothing held meanwhile


def test_the_bound_is_real_time_too():
    ctx = unreachable_context(Retry(outage_seconds=0.6))
    started = time.monotonic()
    with pytest.raises(ShopError):
        ctx.transaction(lambda conn: None)
    assert 0.6 <= time.monotonic() - started < 3


# --- connections killed under a live socket ---------------------------------------------

@pytest.fixture(scope="module")
def served(mariadb):
    shop = ChatShop(heartbeat_seconds=10)
    yield shop
    shop.close()


def _kill_the_chats_connections(shop: ChatShop, spare: set[int]) -> int:
    """Kill every connection to the shop's database but ``spare``; return how many."""
    with shop.db.engine.connect() as killer:
        spare = spare | {killer.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()}
        ids = [row[0] for row in killer.execute(sa.text(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :db"),
            {"db": shop.db.name}) if row[0] not in spare]
        for victim in ids:
            killer.execute(sa.text(f"KILL CONNECTION {int(victim)}"))
    return len(ids)


def _wait_for_a_lock_wait(watcher: sa.Connection) -> None:
    for _ in range(50):
        waiting = watcher.execute(sa.text(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN "
            "information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
            "WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()")).scalar_one()
        if waiting:
            return
        watcher.rollback()
        time.sleep(0.2)  # INNODB_TRX is refreshed only when not read for 0.1 s
    raise AssertionError("the chat's transaction never waited for the row lock")


@pytest.mark.parametrize("who", ["operator", "visitor"])
def test_a_message_survives_its_connection_being_killed(served, who):
    """The socket's transaction waits for a row lock; meanwhile every connection the chat
    holds is killed (as when MariaDB restarts). The message is stored and acknowledged once,
    the other side hears it, and neither socket closes."""
    shop = served
    operator, visitor = shop.operator(), shop.visitor()
    cid = visitor.say("hello")["conversation"]["id_conversation"]
    operator.expect("message", id_conversation=cid, seq=1)
    c = shop.db.tables.conversation
    with shop.db.engine.connect() as holder, shop.db.engine.connect() as watcher:
        holder.begin()
        holder.execute(sa.select(c.c.id_conversation).where(
            c.c.id_conversation == cid).with_for_update())
        if who == "operator":
            operator.send("message", id_conversation=cid, client_id="o-1", body="answer")
        else:
            visitor.send("message", client_id="v-2", body="still there?")
        _wait_for_a_lock_wait(watcher)
        spare = {conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
                 for conn in (holder, watcher)}
        assert _kill_the_chats_connections(shop, spare) >= 1
        holder.rollback()
    sender, other = (operator, visitor) if who == "operator" else (visitor, operator)
    ack = sender.expect("ack", timeout=15)
    assert ack["seq"] == 2 and not ack["duplicate"]
    other.expect("message", seq=2, timeout=5)
    for client in (operator, visitor):
        client.send("ping")
        client.expect("pong")
    m = shop.db.tables.message
    assert len(shop.query(sa.select(m.c.seq).where(m.c.id_conversation == cid))) == 2
    shop.reset()
