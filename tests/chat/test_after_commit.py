"""Publishing is a transaction hook: what a change tells the sockets and the plugins waits
for its commit, goes with a rollback, and is said once however often the transaction ran."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
import sqlalchemy as sa

from psonlinechat.chat import protocol, publisher
from psonlinechat.chat.broker import conversation_channel, shop_channel
from psonlinechat.errors import ChatError
from psonlinechat.store.conversations import Event


def test_a_publication_waits_for_the_commit(core):
    ctx = core.chat.ctx
    seen_inside = []

    def work(conn):
        ctx.publish_after_commit(conn, "test:1", {"type": "hello"})
        ctx.action_after_commit(conn, "action_test", n=1)
        seen_inside.append((list(core.broker.published), list(core.actions)))
        return "done"

    assert ctx.transaction(work) == "done"
    assert seen_inside == [([], [])]
    assert core.broker.published == [("test:1", {"type": "hello"})]
    assert core.actions == [("action_test", {"n": 1})]


def test_a_rollback_drops_the_queue(core):
    ctx = core.chat.ctx

    def work(conn):
        ctx.publish_after_commit(conn, "test:1", {"type": "hello"})
        ctx.action_after_commit(conn, "action_test", n=1)
        raise ChatError("not_found", "nothing here")

    with pytest.raises(ChatError):
        ctx.transaction(work)
    assert core.broker.published == [] and core.actions == []


def test_publishing_after_commit_needs_a_transaction(core):
    ctx = core.chat.ctx
    with ctx.connect() as conn, pytest.raises(RuntimeError):
        ctx.publish_after_commit(conn, "test:1", {"type": "hello"})


def test_a_deadlock_victim_runs_again_with_an_empty_queue(core):
    """Two transactions lock two rows in opposite orders: MariaDB picks one as the deadlock
    victim, which runs again. Each is told once, from its last attempt."""
    ctx, c = core.chat.ctx, core.db.tables.configuration
    ids = [row[0] for row in core.db.engine.connect().execute(
        sa.select(c.c.id_configuration).order_by(c.c.id_configuration).limit(2))]
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts = {"a": 0, "b": 0}

    def locker(name, first, second):
        def work(conn):
            attempts[name] += 1
            ctx.publish_after_commit(conn, "test:" + name, {"attempt": attempts[name]})
            for n, id_configuration in enumerate((first, second)):
                conn.execute(sa.select(c.c.id_configuration).where(
                    c.c.id_configuration == id_configuration).with_for_update())
                if n == 0 and attempts[name] == 1:
                    both_hold_one.wait()
        return lambda: ctx.transaction(work)

    threads = [threading.Thread(target=locker("a", *ids)),
               threading.Thread(target=locker("b", *reversed(ids)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(attempts.values()) == [1, 2]  # one victim, run once more
    assert sorted(core.broker.published) == [("test:a", {"attempt": attempts["a"]}),
                                             ("test:b", {"attempt": attempts["b"]})]


def test_a_failing_hook_or_broker_is_logged_and_the_commit_stands(core, caplog):
    def failing_actions(name, **event):
        raise RuntimeError("a plugin's bug")

    class DownBroker:
        def publish(self, channel, event):
            raise ConnectionError("redis is away")

    core.chat.ctx.actions = failing_actions
    core.chat.ctx.broker = DownBroker()
    conversations = core.chat.conversations
    with caplog.at_level(logging.WARNING):
        posted = conversations.post_customer(core.visitor, conversations.issue_token(),
                                             client_id="a", body="still here")
    assert posted.opened
    assert [e.body for e in conversations.events_after(posted.event.id_conversation, 0)] == [
        "still here"]
    assert any("a plugin's bug" in (r.exc_text or "") or
               (r.exc_info and "a plugin's bug" in str(r.exc_info[1])) for r in caplog.records)
    assert any("redis is away" in r.getMessage() for r in caplog.records)


def test_the_plugins_hear_each_committed_change(core):
    conversations = core.chat.conversations
    token = conversations.issue_token()
    opened = conversations.post_customer(core.visitor, token, client_id="c1", body="hello")
    cid, shop = opened.event.id_conversation, core.id_shop
    answer = conversations.post_operator(core.id_employee, shop, cid, client_id="o1",
                                         body="hi, how can I help?")
    conversations.post_customer(core.visitor, token, client_id="c1", body="hello")  # resend
    conversations.end(cid, shop, by="operator", id_employee=core.id_employee)
    with pytest.raises(ChatError):  # refused: nothing to tell
        conversations.post_operator(core.id_employee, shop, cid, client_id="o2", body="late")
    name = conversations.operator_name(shop)
    ended = conversations.events_after(cid, answer.event.seq)[0]
    [recap] = [event["conversation"] for channel, event in core.broker.published
               if event["type"] == "conversation"][:1]

    def frame(event):
        return protocol.log_event(event, audience="operator", operator_name=name)

    assert core.actions == [
        ("action_conversation_opened", {"id_shop": shop, "conversation": recap}),
        ("action_message_posted", {"id_shop": shop, "id_conversation": cid,
                                   "message": frame(opened.event)}),
        ("action_message_posted", {"id_shop": shop, "id_conversation": cid,
                                   "message": frame(answer.event)}),
        ("action_conversation_ended", {"id_shop": shop, "id_conversation": cid,
                                       "by": "operator"}),
    ]
    assert recap["id_conversation"] == cid and recap["last_seq"] == 1
    assert frame(answer.event)["operator_name"] == name
    assert frame(answer.event)["id_employee"] == core.id_employee and ended.kind == "ended"


def test_going_offline_tells_the_plugins_what_ended_and_what_was_archived(core):
    conversations = core.chat.conversations
    ongoing = conversations.post_customer(core.visitor, conversations.issue_token(),
                                          client_id="a", body="one").event.id_conversation
    finished = conversations.post_customer(core.visitor, conversations.issue_token(),
                                           client_id="b", body="two").event.id_conversation
    conversations.end(finished, core.id_shop, by="customer")
    core.actions.clear()
    core.broker.published.clear()
    core.chat.operators.socket_closed(core.id_employee, core.id_shop)
    assert core.chat.operators.set_status(core.id_employee, core.id_shop, False)
    assert core.actions == [
        ("action_conversation_ended", {"id_shop": core.id_shop, "id_conversation": ongoing,
                                       "by": "system"}),
        ("action_conversation_archived", {"id_shop": core.id_shop,
                                          "id_conversations": [finished, ongoing]}),
    ]
    told = [(channel, event["type"]) for channel, event in core.broker.published]
    assert told[:2] == [(conversation_channel(ongoing), "ended"),
                        (shop_channel(core.id_shop), "ended")]
    assert (shop_channel(core.id_shop), "status") in told


def test_a_live_frame_is_the_replayed_frame(core):
    """Live (published) and replayed (read back from the log) frames come from one place,
    for both audiences, byte for byte."""
    conversations = core.chat.conversations
    token = conversations.issue_token()
    cid = conversations.post_customer(core.visitor, token, client_id="c1",
                                      body="hello").event.id_conversation
    conversations.post_operator(core.id_employee, core.id_shop, cid, client_id="o1",
                                body="hi")
    conversations.end(cid, core.id_shop, by="customer")
    live = {audience: [protocol.dumps(event) for channel, event in core.broker.published
                       if channel == wanted and event["type"] in protocol.LOG_KINDS]
            for audience, wanted in (("visitor", conversation_channel(cid)),
                                     ("operator", shop_channel(core.id_shop)))}
    events = conversations.events_after(cid, 0)
    for audience in ("visitor", "operator"):
        replayed = publisher.render(events, audience=audience, operator_name=lambda: (
            conversations.operator_name(core.id_shop)))
        assert live[audience] == [protocol.dumps(frame) for frame in replayed]
    assert len(live["visitor"]) == 3


def test_the_wire_form_of_logged_events_stays_as_documented():
    at = dt.datetime(2025, 3, 1, 12, 0, 0, 123456)
    answer = Event(id_conversation=42, seq=7, kind="message", author="operator", body="Hello!",
                   client_id="o-1", id_employee=3, date_add=at, date_seen=None)
    asked = []

    def name():
        asked.append(1)
        return "Support"

    visitor, = publisher.render([answer], audience="visitor", operator_name=name)
    operator, = publisher.render([answer], audience="operator", operator_name=name)
    assert protocol.dumps(visitor) == (
        '{"type":"message","id_conversation":42,"seq":7,"at":"2025-03-01T12:00:00.123456Z",'
        '"author":"operator","body":"Hello!","operator_name":"Support"}')
    assert protocol.dumps(operator) == (
        '{"type":"message","id_conversation":42,"seq":7,"at":"2025-03-01T12:00:00.123456Z",'
        '"author":"operator","body":"Hello!","operator_name":"Support","id_employee":3,'
        '"client_id":"o-1"}')
    question = Event(id_conversation=42, seq=6, kind="message", author="customer", body="Hi",
                     client_id="c-1", id_employee=None, date_add=at, date_seen=None)
    asked.clear()
    publisher.render([question, question], audience="visitor", operator_name=name)
    assert asked == []  # no operator's event: the name is not even read
    publisher.render([answer, answer], audience="visitor", operator_name=name)
    assert asked == [1]  # read once for all
