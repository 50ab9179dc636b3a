"""The chat end to end: real sockets on a real server over a real MariaDB shop."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from psonlinechat.store import seed
from tests.support.chatclient import ChatShop

CHAT_SETTINGS = {"heartbeat_seconds": 5}  # the chat_shop of this module (tests/conftest.py)


def conversation_row(shop: ChatShop, id_conversation: int):
    c = shop.db.tables.conversation
    return shop.query(sa.select(c).where(c.c.id_conversation == id_conversation))[0]


def test_full_conversation_both_ways(shop):
    shop.settings(operator_name="Alice from the shop")
    operator = shop.operator()
    visitor = shop.visitor()
    assert visitor.welcome["state"] == "online" and visitor.welcome["token"]

    ack = visitor.say("Do you ship to Lyon?", client_id="v-1")
    assert ack["type"] == "ack" and ack["seq"] == 1 and ack["duplicate"] is False
    id_conversation = ack["conversation"]["id_conversation"]
    opened = operator.expect("conversation")["conversation"]
    assert opened["id_conversation"] == id_conversation and opened["status"] == "ongoing"
    assert opened["customer"] is None and opened["id_guest"]  # a new guest for an anonymous visitor
    assert operator.expect("message")["body"] == "Do you ship to Lyon?"

    answer = operator.say("Yes, in two days.", id_conversation=id_conversation)
    assert answer["type"] == "ack" and answer["seq"] == 2
    seen_by_visitor = visitor.expect("message", author="operator")
    assert seen_by_visitor["operator_name"] == "Alice from the shop"
    assert "id_employee" not in seen_by_visitor  # visitors never learn who the employee is

    visitor.send("typing", on=True)
    assert operator.expect("typing")["on"] is True
    operator.send("typing", id_conversation=id_conversation, on=True)
    assert visitor.expect("typing")["author"] == "operator"
    visitor.send("seen", seq=2)
    assert operator.expect("seen") == {"type": "seen", "id_conversation": id_conversation,
                                       "by": "customer", "seq": 2}

    # The operator ends it: the visitor is told, the conversation is finished.
    operator.send("end", id_conversation=id_conversation)
    ended = visitor.expect("ended")
    assert ended["by"] == "operator" and ended["seq"] == 3
    row = conversation_row(shop, id_conversation)
    assert row.status == "finished" and row.ended_by == "operator" and row.id_employee_ended

    # The customer writes again: it reopens.
    again = visitor.say("One more thing")
    assert again["seq"] == 5
    assert visitor.expect("reopened")["by"] == "customer"
    assert conversation_row(shop, id_conversation).status == "ongoing"

    # The visitor ends it; the operator reopens it.
    visitor.send("end")
    assert operator.expect("ended", by="customer")["seq"] == 6
    assert conversation_row(shop, id_conversation).ended_by == "customer"
    operator.send("reopen", id_conversation=id_conversation)
    assert visitor.expect("reopened")["by"] == "operator"
    assert conversation_row(shop, id_conversation).status == "ongoing"

    m = shop.db.tables.message
    rows = shop.query(sa.select(m.c.seq, m.c.kind, m.c.author).where(
        m.c.id_conversation == id_conversation).order_by(m.c.seq))
    assert [tuple(r) for r in rows] == [
        (1, "message", "customer"), (2, "message", "operator"), (3, "ended", "operator"),
        (4, "reopened", "customer"), (5, "message", "customer"), (6, "ended", "customer"),
        (7, "reopened", "operator")]
    assert conversation_row(shop, id_conversation).last_customer_message == "One more thing"


def test_signed_in_customer_keeps_id_customer(shop):
    operator = shop.operator()
    id_customer, cookies = shop.customer(firstname="Ann", lastname="Smith")
    with shop.db.engine.begin() as conn:  # the latest address's mobile phone is shown
        seed.add_address(conn, shop.db.tables, id_customer, phone="01 02 03 04 05")
        seed.add_address(conn, shop.db.tables, id_customer, phone="01 00 00 00 00",
                         phone_mobile="+33 6 12 34 56 78")
        seed.add_address(conn, shop.db.tables, id_customer, phone_mobile="09", deleted=True)
    visitor = shop.visitor(cookies)
    ack = visitor.say("Hello")
    summary = operator.expect("conversation")["conversation"]
    assert summary["customer"] == {"id_customer": id_customer, "firstname": "Ann",
                                   "lastname": "Smith", "email": "ann@example.test",
                                   "phone": "+33 6 12 34 56 78"}
    row = conversation_row(shop, ack["conversation"]["id_conversation"])
    assert row.id_customer == id_customer and row.id_guest is None


def test_each_anonymous_conversation_gets_a_new_guest(shop):
    shop.operator()
    first = shop.visitor().say("one")
    second = shop.visitor().say("two")
    guests = {conversation_row(shop, a["conversation"]["id_conversation"]).id_guest
              for a in (first, second)}
    assert len(guests) == 2 and None not in guests


def test_going_offline_archives_finished_and_puts_visitors_offline(shop):
    operator = shop.operator()
    finished, ongoing = shop.visitor(), shop.visitor()
    first = finished.say("I'm done soon")["conversation"]["id_conversation"]
    second = ongoing.say("Still there?")["conversation"]["id_conversation"]
    operator.send("end", id_conversation=first)
    finished.expect("ended")
    idle = shop.visitor()
    assert idle.welcome["state"] == "online"

    operator.send("status", online=False)
    operator.expect("status", online=False)
    state = finished.expect("state")
    assert state["state"] == "offline_form" and state["conversation"] is None
    assert state["token"] != finished.welcome["token"]  # the next conversation is a new one
    assert ongoing.expect("ended")["by"] == "system"
    assert ongoing.expect("state")["state"] == "offline_form"
    assert idle.expect("state")["state"] == "offline_form"
    assert operator.expect("archived", id_conversation=first)
    assert conversation_row(shop, first).status == "archived"
    assert conversation_row(shop, second).status == "archived"
    assert conversation_row(shop, second).ended_by == "system"

    # With offline mode off, visitors are told nobody is there at all.
    shop.settings(offline_mode=False)
    assert shop.visitor().welcome["state"] == "unavailable"
    # A new operator hello shows nothing left in the recap.
    assert shop.operator(online=False).received[-1]["conversations"] == []


def test_reconnect_replays_what_was_missed_without_duplicates(shop):
    operator = shop.operator()
    visitor = shop.visitor()
    ack = visitor.say("first")
    id_conversation, token = ack["conversation"]["id_conversation"], ack["token"]
    operator.say("second", id_conversation=id_conversation)
    visitor.expect("message", seq=2)
    visitor.close()
    operator.say("third", id_conversation=id_conversation)
    operator.say("fourth", id_conversation=id_conversation)

    back = shop.visitor(token=token, last_seq=2)
    welcome = back.welcome
    assert welcome["conversation"]["id_conversation"] == id_conversation
    assert [e["seq"] for e in welcome["events"]] == [3, 4]
    assert [e["body"] for e in welcome["events"]] == ["third", "fourth"]
    operator.say("fifth", id_conversation=id_conversation)
    assert back.expect("message")["seq"] == 5
    back.send("ping")
    back.expect("pong")
    assert [e.get("seq") for e in back.received if e["type"] == "message"] == [5]

    # An operator console reconnecting with what it saw gets only the rest.
    console = shop.connect("operator", shop.employee("bob-replay@example.test"))
    recap = console.hello(last_seqs={str(id_conversation): 4})
    [item] = recap["conversations"]
    assert [e["seq"] for e in item["events"]] == [5]


def test_resent_message_is_acknowledged_again_and_stored_once(shop):
    operator = shop.operator()
    visitor = shop.visitor()
    first = visitor.say("Hello?", client_id="same-id")
    id_conversation = first["conversation"]["id_conversation"]
    operator.expect("message")
    again = visitor.say("Hello?", client_id="same-id")
    assert again["seq"] == first["seq"] and again["duplicate"] is True
    # A lost ack on the very first message: reconnect with the token, resend.
    back = shop.visitor(token=first["token"], last_seq=0)
    assert [e["client_id"] for e in back.welcome["events"]] == ["same-id"]
    assert back.say("Hello?", client_id="same-id")["seq"] == 1
    m = shop.db.tables.message
    assert shop.query(sa.select(sa.func.count()).select_from(m).where(
        m.c.id_conversation == id_conversation))[0][0] == 1
    operator.send("ping")
    operator.expect("pong")
    assert [e["seq"] for e in operator.received if e["type"] == "message"] == [1]


def test_two_visitors_race_for_the_last_place(shop):
    shop.settings(max_chats=2)
    shop.operator()
    shop.visitor().say("I took the first place")
    racers = [shop.visitor() for _ in range(2)]
    assert all(r.welcome["state"] == "online" for r in racers)
    barrier = threading.Barrier(2)
    results: list[dict] = [{}, {}]

    def race(i: int) -> None:
        barrier.wait()
        results[i] = racers[i].say(f"racer {i}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = sorted(r["type"] for r in results)
    assert kinds == ["ack", "error"]
    [loser] = [r for r in results if r["type"] == "error"]
    assert loser["code"] == "unavailable" and loser["state"] == "offline_form"
    c = shop.db.tables.conversation
    assert shop.query(sa.select(sa.func.count()).select_from(c).where(
        c.c.status == "ongoing"))[0][0] == 2


def test_operator_goes_offline_after_the_grace_period(mariadb):
    shop = ChatShop(heartbeat_seconds=5, operator_grace_seconds=0.3)
    try:
        cookies = shop.employee()
        operator = shop.operator(cookies)
        visitor = shop.visitor()
        visitor.say("hi")
        # (Coming back within the grace period: test_operators, on a clock of its own.)
        operator.close()
        assert visitor.expect("ended", timeout=10)["by"] == "system"
        assert visitor.expect("state", timeout=10)["state"] == "offline_form"
        o = shop.db.tables.operator
        assert shop.query(sa.select(o.c.online, o.c.sockets))[0] == (False, 0)
    finally:
        shop.close()


def test_silent_socket_is_closed_after_two_heartbeats(mariadb):
    shop = ChatShop(heartbeat_seconds=0.2)
    try:
        quiet = shop.connect("visitor", shop.anonymous())
        quiet.answer_pings = False
        quiet.hello()
        assert quiet.closed(timeout=5)
        assert any(e["type"] == "ping" for e in quiet.received)
        lively = shop.visitor()
        for _ in range(3):
            lively.expect("ping")
        lively.send("typing", on=True)  # still open: answers an error, not a close
        assert lively.expect("error")["code"] == "no_conversation"
    finally:
        shop.close()


def test_a_late_archive_of_the_old_conversation_does_not_drop_the_new_one(shop):
    """The broker may hand a socket the archive of its old conversation after the visitor
    has opened the next one (a copy of the subscriber list taken just before the switch):
    it must not make the socket let go of the new conversation."""
    from psonlinechat.chat.broker import conversation_channel
    from psonlinechat.web.extension import chat_for

    operator = shop.operator()
    visitor = shop.visitor()
    old = visitor.say("first")["conversation"]["id_conversation"]
    broker = chat_for(shop.state).broker
    outbox = broker._subscribers[conversation_channel(old)][0].callback.__self__
    operator.send("status", online=False)
    late = visitor.expect("state")
    assert late["conversation"] is None and late["id_conversation"] == old
    operator.send("status", online=True)
    operator.expect("status", online=True)
    new = visitor.say("second")["conversation"]["id_conversation"]
    assert new != old
    outbox.deliver(late)  # the late delivery
    operator.say("still with you", id_conversation=new)
    message = visitor.expect("message", author="operator")
    assert message["id_conversation"] == new
    assert [e for e in visitor.received
            if e["type"] == "state" and "conversation" in e] == [late]
