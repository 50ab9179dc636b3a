"""Operator presence over workers: the switch, the grace period, crashed workers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from psonlinechat import testing
from psonlinechat.chat.broker import InMemoryBroker
from psonlinechat.chat.conversations import Conversations
from psonlinechat.chat.operators import Operators
from psonlinechat.shop.identity import Visitor
from psonlinechat.web.extension import chat_for
from tests.support.chatclient import waits_for_the_shop_lock


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 3, 1, 12, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


CHAT_SETTINGS = {"heartbeat_seconds": 10, "operator_grace_seconds": 30}  # chat_shop's


@pytest.fixture
def world(shop):
    chat = chat_for(shop.state)
    clock = Clock()
    ctx = dataclasses.replace(chat.ctx, clock=clock, broker=InMemoryBroker())
    # Two workers sharing the database, each with its own broker and clock view.
    workers = [Operators(ctx), Operators(dataclasses.replace(ctx, broker=InMemoryBroker()))]
    with shop.db.engine.begin() as conn:
        id_employee = testing.add_employee(conn, shop.db.tables,
                                           email=f"op-{secrets.token_hex(4)}@example.test")
    yield shop, workers, clock, id_employee
    for worker in workers:
        worker.close()


def availability(shop, operators):
    with shop.db.engine.connect() as conn:
        return operators.availability(conn, shop.id_shop)


def test_the_switch_decides_and_every_worker_sees_it(world):
    shop, (one, two), clock, id_employee = world
    one.socket_opened(id_employee, shop.id_shop)
    assert availability(shop, two) == "offline_form"  # connected, but switched offline
    assert one.set_status(id_employee, shop.id_shop, True) is True
    assert one.set_status(id_employee, shop.id_shop, True) is False  # already online
    assert availability(shop, two) == "online"
    assert two.is_online(id_employee, shop.id_shop)
    assert two.set_status(id_employee, shop.id_shop, False) is True
    assert availability(shop, one) == "offline_form"


def test_grace_period_then_exactly_one_worker_takes_the_operator_offline(world):
    shop, (one, two), clock, id_employee = world
    one.socket_opened(id_employee, shop.id_shop)
    one.set_status(id_employee, shop.id_shop, True)
    one.socket_closed(id_employee, shop.id_shop)
    clock.advance(29)
    assert one.sweep() == [] and two.sweep() == []
    assert availability(shop, two) == "online"
    clock.advance(2)
    assert availability(shop, two) == "offline_form"  # readers apply the rule at once
    taken = one.sweep() + two.sweep()
    assert taken == [(id_employee, shop.id_shop)]
    assert not two.is_online(id_employee, shop.id_shop)


def test_coming_back_within_the_grace_period_keeps_the_operator_online(world):
    shop, (one, two), clock, id_employee = world
    one.socket_opened(id_employee, shop.id_shop)
    one.set_status(id_employee, shop.id_shop, True)
    one.socket_closed(id_employee, shop.id_shop)  # a page change in the back office
    clock.advance(29)
    assert two.socket_opened(id_employee, shop.id_shop).online  # the next page, another worker
    clock.advance(10)
    assert one.sweep() == [] and two.sweep() == []
    two.socket_closed(id_employee, shop.id_shop)  # the grace period starts again from here
    clock.advance(29)
    assert one.sweep() == []
    clock.advance(2)
    assert one.sweep() == [(id_employee, shop.id_shop)]


def test_an_open_socket_keeps_the_operator_present_while_it_beats(world):
    shop, (one, two), clock, id_employee = world
    one.socket_opened(id_employee, shop.id_shop)
    one.set_status(id_employee, shop.id_shop, True)
    for _ in range(10):
        clock.advance(10)
        one.heartbeat(id_employee, shop.id_shop)
        assert two.sweep() == []
    assert availability(shop, two) == "online"


def test_a_crashed_worker_does_not_leave_the_operator_online_forever(world):
    shop, (one, two), clock, id_employee = world
    one.socket_opened(id_employee, shop.id_shop)  # the socket count stays 1: no close comes
    one.set_status(id_employee, shop.id_shop, True)
    clock.advance(2 * 10 + 30 - 1)
    assert two.sweep() == []
    clock.advance(2)
    assert two.sweep() == [(id_employee, shop.id_shop)]
    o = shop.db.tables.operator
    assert shop.query(sa.select(o.c.online, o.c.sockets))[0] == (False, 0)


def test_capacity_counts_ongoing_conversations(world):
    shop, (one, _), clock, id_employee = world
    shop.settings(max_chats=1)
    one.socket_opened(id_employee, shop.id_shop)
    one.set_status(id_employee, shop.id_shop, True)
    conversations = Conversations(one.ctx, one)
    visitor = Visitor(id_shop=shop.id_shop, id_lang=shop.db.ids["en"])
    conversations.post_customer(visitor, conversations.issue_token(), client_id="a", body="hi")
    assert availability(shop, one) == "offline_form"
    shop.settings(offline_mode=False)
    assert availability(shop, one) == "unavailable"



def test_going_online_waits_while_the_shop_goes_offline(world):
    """Going offline decides under the shop's lock whether anyone is left (if not, ongoing
    conversations end). An operator switching on meanwhile must wait for that lock, or the
    conversations end although they are there."""
    shop, (one, _), clock, id_employee = world
    one.socket_opened(id_employee, shop.id_shop)
    waited, switched = waits_for_the_shop_lock(
        shop, lambda: one.set_status(id_employee, shop.id_shop, True))
    assert waited and switched is True and one.is_online(id_employee, shop.id_shop)
