"""What a new visitor may do, as the footer fragment learns it: real MariaDB, real sockets."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from psonlinechat.web.front import availability
from psonlinechat.web.front.availability import (
    CACHE_SECONDS,
    OFFLINE_FORM,
    ONLINE,
    UNAVAILABLE,
    AvailabilityCache,
    storefront_availability,
)


@pytest.fixture
def clock(shop):
    """The shop's availability cache on a clock the test moves, empty before and after."""
    now = [1000.0]
    cache = availability.cache_of(shop.state)
    cache.forget()
    cache.clock = lambda: now[0]
    yield now
    cache.forget()


@contextlib.contextmanager
def statements_of(engine: sa.Engine) -> Iterator[list[str]]:
    """The statements ``engine`` runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def fresh(shop, clock) -> str:
    clock[0] += CACHE_SECONDS
    return storefront_availability(shop.state, shop.id_shop)


def test_no_operator_gives_the_offline_form_or_nothing(shop, clock):
    assert fresh(shop, clock) == OFFLINE_FORM
    shop.settings(offline_mode=False)
    assert fresh(shop, clock) == UNAVAILABLE


def test_an_operator_online_opens_the_chat_until_every_place_is_taken(shop, clock):
    shop.settings(max_chats=1)
    operator = shop.operator()
    assert fresh(shop, clock) == ONLINE
    shop.visitor().say("I take the only place")
    assert fresh(shop, clock) == OFFLINE_FORM
    shop.settings(offline_mode=False)
    assert fresh(shop, clock) == UNAVAILABLE
    shop.settings(max_chats=5)
    assert fresh(shop, clock) == ONLINE
    operator.send("status", online=False)
    operator.expect("status", online=False)
    assert fresh(shop, clock) == UNAVAILABLE


def test_a_warm_answer_costs_no_query_and_a_stale_one_is_asked_again(shop, clock):
    assert fresh(shop, clock) == OFFLINE_FORM
    shop.operator()
    clock[0] += CACHE_SECONDS - 0.01
    with statements_of(shop.state.engine) as statements:
        assert [storefront_availability(shop.state, shop.id_shop) for _ in range(50)] == [
            OFFLINE_FORM] * 50  # an operator came, the page still says what it knew
    assert statements == []
    clock[0] += 0.01
    with statements_of(shop.state.engine) as statements:
        assert storefront_availability(shop.state, shop.id_shop) == ONLINE
    assert statements


def test_shops_and_apps_are_kept_apart(shop, clock):
    other_shop = shop.id_shop + 1000  # no such shop: no operator, the defaults say offline form
    shop.operator()
    assert fresh(shop, clock) == ONLINE
    assert storefront_availability(shop.state, other_shop) == OFFLINE_FORM
    assert storefront_availability(shop.state, shop.id_shop) == ONLINE


def test_threads_racing_on_a_cold_cache_ask_the_engine_once():
    cache = AvailabilityCache(clock=lambda: 0.0)
    asked: list[int] = []
    barrier = threading.Barrier(8)
    gate = threading.Event()

    def ask() -> str:
        asked.append(1)
        gate.wait(5)
        return ONLINE

    results: list[str] = []

    def render() -> None:
        barrier.wait()
        results.append(cache.get(1, ask))

    threads = [threading.Thread(target=render) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert asked == [1] and results == [ONLINE] * 8


def test_a_failing_engine_keeps_nothing():
    cache = AvailabilityCache(clock=lambda: 0.0)

    def broken() -> str:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        cache.get(1, broken)
    assert cache.get(1, lambda: UNAVAILABLE) == UNAVAILABLE
