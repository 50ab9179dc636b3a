"""The conversation lifecycle without sockets: tokens, the log, seen marks, the race."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from psonlinechat import testing
from psonlinechat.chat import protocol
from psonlinechat.chat.model import ChatError, ConversationArchived
from psonlinechat.chat.tokens import token_hash
from psonlinechat.shop.identity import Visitor
from psonlinechat.web.extension import chat_for
from tests.support.chatclient import ChatShop, holding_the_pool, waits_for_the_shop_lock

CHAT_SETTINGS = {"heartbeat_seconds": 10}  # the chat_shop of this module (tests/conftest.py)


@pytest.fixture(scope="module")
def shared_shop(chat_shop):
    """The module's chat shop with an employee, the chat core and an anonymous visitor."""
    with chat_shop.db.engine.begin() as conn:
        chat_shop.id_employee = testing.add_employee(conn, chat_shop.db.tables,
                                                     email="op@example.test")
    chat_shop.chat = chat_for(chat_shop.state)
    chat_shop.visitor_ = Visitor(id_shop=chat_shop.id_shop, id_lang=chat_shop.db.ids["en"])
    return chat_shop


@pytest.fixture
def shop(shared_shop):
    shared_shop.chat.operators.socket_opened(shared_shop.id_employee, shared_shop.id_shop)
    shared_shop.chat.operators.set_status(shared_shop.id_employee, shared_shop.id_shop, True)
    yield shared_shop
    shared_shop.reset()


def test_tokens_are_signed_and_only_their_hash_is_stored(shop):
    conversations = shop.chat.conversations
    token = conversations.issue_token()
    assert conversations.token_is_ours(token)
    assert not conversations.token_is_ours(token + "x")
    assert not conversations.token_is_ours("made.up")
    for hostile in ("\ud800." + token.split(".")[1], token + "\udfff", "x" * 129, "", "."):
        assert not conversations.token_is_ours(hostile)
    posted = conversations.post_customer(shop.visitor_, token, client_id="a", body="hi")
    c = shop.db.tables.conversation
    [row] = shop.query(c.select())
    assert row.token_hash == token_hash(token) and token not in str(tuple(row))
    assert posted.opened and conversations.find_for_visitor(shop.visitor_, token).id_conversation \
        == posted.event.id_conversation
    with pytest.raises(ChatError) as refused:
        conversations.find_for_visitor(shop.visitor_, "forged." + token.split(".")[1])
    assert refused.value.code == "invalid_token"


def test_log_order_and_events_after(shop):
    conversations = shop.chat.conversations
    token = conversations.issue_token()
    first = conversations.post_customer(shop.visitor_, token, client_id="a", body="one")
    cid = first.event.id_conversation
    conversations.post_operator(shop.id_employee, shop.id_shop, cid, client_id="b", body="two")
    conversations.end(cid, shop.id_shop, by="operator", id_employee=shop.id_employee)
    assert conversations.end(cid, shop.id_shop, by="customer") is None  # already finished
    with pytest.raises(ChatError) as refused:
        conversations.post_operator(shop.id_employee, shop.id_shop, cid, client_id="c",
                                    body="late")
    assert refused.value.code == "not_ongoing"
    assert conversations.reopen(cid, shop.id_shop, id_employee=shop.id_employee).seq == 4
    assert [(e.seq, e.kind) for e in conversations.events_after(cid, 1)] == [
        (2, "message"), (3, "ended"), (4, "reopened")]
    assert [e.seq for e in conversations.events_after(cid, 1, until_seq=2)] == [2]


def test_seen_marks_only_move_forward_and_stop_at_the_end(shop):
    conversations = shop.chat.conversations
    first = conversations.post_customer(shop.visitor_, conversations.issue_token(),
                                        client_id="a", body="one")
    cid = first.event.id_conversation
    conversations.post_operator(shop.id_employee, shop.id_shop, cid, client_id="b", body="two")
    assert conversations.seen(cid, shop.id_shop, by="customer", seq=99) == 2
    assert conversations.seen(cid, shop.id_shop, by="customer", seq=1) == 2
    m = shop.db.tables.message
    rows = shop.query(m.select().order_by(m.c.seq))
    assert rows[0].date_seen is None and rows[1].date_seen is not None  # only the operator's


def test_archived_conversation_cannot_be_written_into(shop):
    conversations = shop.chat.conversations
    token = conversations.issue_token()
    conversations.post_customer(shop.visitor_, token, client_id="a", body="one")
    shop.chat.operators.set_status(shop.id_employee, shop.id_shop, False)
    with pytest.raises(ConversationArchived):
        conversations.post_customer(shop.visitor_, token, client_id="b", body="two")


def test_exactly_one_of_many_racers_takes_the_last_place(shop):
    shop.settings(max_chats=1)
    conversations = shop.chat.conversations
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def race() -> None:
        token = conversations.issue_token()
        barrier.wait()
        try:
            conversations.post_customer(shop.visitor_, token, client_id="a", body="me!")
            outcomes.append("won")
        except ChatError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["unavailable"] * 3 + ["won"]


def test_a_message_into_a_finished_conversation_reopens_it_in_one_transaction(shop):
    conversations = shop.chat.conversations
    token = conversations.issue_token()
    cid = conversations.post_customer(shop.visitor_, token, client_id="a",
                                      body="one").event.id_conversation
    conversations.end(cid, shop.id_shop, by="operator", id_employee=shop.id_employee)
    posted = conversations.post_customer(shop.visitor_, token, client_id="b", body="back")
    assert (posted.reopened.seq, posted.reopened.kind) == (3, "reopened")
    assert (posted.event.seq, posted.conversation.last_seq) == (4, 4)
    assert posted.conversation.status == "ongoing"
    [row] = shop.query(shop.db.tables.conversation.select())
    assert (row.status, row.last_seq, row.ended_by, row.date_end) == ("ongoing", 4, None, None)
    assert row.last_customer_message == "back" and row.last_message_at is not None
    resent = conversations.post_customer(shop.visitor_, token, client_id="b", body="back")
    assert resent.duplicate and resent.event.seq == 4 and resent.reopened is None


def test_concurrent_senders_get_gapless_sequence_numbers_and_resends_store_once(shop):
    conversations = shop.chat.conversations
    token = conversations.issue_token()
    cid = conversations.post_customer(shop.visitor_, token, client_id="first",
                                      body="hi").event.id_conversation
    senders = 12
    barrier = threading.Barrier(senders)
    acks: dict[str, list[int]] = {}
    failures: list[BaseException] = []

    def send(n: int) -> None:
        # two senders per client id: each pair's second one is a resend
        client_id = f"c{n // 2}"
        barrier.wait()
        try:
            if n % 4 < 2:
                posted = conversations.post_customer(shop.visitor_, token,
                                                     client_id=client_id, body=client_id)
            else:
                posted = conversations.post_operator(shop.id_employee, shop.id_shop, cid,
                                                     client_id=client_id, body=client_id)
            acks.setdefault(client_id, []).append(posted.event.seq)
        except BaseException as exc:  # noqa: B036 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # both senders of a client id got the same seq; the distinct ids follow the first
    assert all(len(set(seqs)) == 1 and len(seqs) == 2 for seqs in acks.values())
    events = conversations.events_after(cid, 0)
    assert [e.seq for e in events] == list(range(1, senders // 2 + 2))
    assert sorted(e.seq for e in events[1:]) == sorted(seqs[0] for seqs in acks.values())
    assert all(e.body == e.client_id for e in events[1:])
    [row] = shop.query(shop.db.tables.conversation.select())
    assert row.last_seq == senders // 2 + 1


def test_senders_past_the_pool_size_wait_their_turn_then_commit_together(mariadb):
    shop = ChatShop(pool_size=2, heartbeat_seconds=10)
    try:
        with shop.db.engine.begin() as conn:
            id_employee = testing.add_employee(conn, shop.db.tables, email="op@example.test")
        chat = chat_for(shop.state)
        ctx, conversations = chat.ctx, chat.conversations
        chat.operators.socket_opened(id_employee, shop.id_shop)
        chat.operators.set_status(id_employee, shop.id_shop, True)
        visitor = Visitor(id_shop=shop.id_shop, id_lang=shop.db.ids["en"])
        token = conversations.issue_token()
        cid = conversations.post_customer(visitor, token, client_id="open",
                                          body="hi").event.id_conversation
        results: list[object] = []

        def send(n: int) -> None:
            try:
                results.append(conversations.post_operator(
                    id_employee, shop.id_shop, cid, client_id=f"q{n}", body=f"queued {n}"))
            except Exception as exc:  # reported by the assertions below
                results.append(exc)

        senders = [threading.Thread(target=send, args=(n,)) for n in range(6)]
        queue, pool = conversations.posting.queue, shop.state.engine.pool
        with holding_the_pool(ctx):  # two slow transactions keep both connections
            for thread in senders:
                thread.start()
            # wait until every sender is queued (a bounded wait: it asserts no duration): the
            # batches' leaders at the gate, every message in the group commit's queue
            while (ctx.waiting < queue.slots or queue.queued < 6) and any(
                    thread.is_alive() for thread in senders):
                threading.Event().wait(0.01)
            assert ctx.waiting == queue.slots and queue.queued == 6
            assert pool.checkedout() == 2  # the queued ones wait at the gate, not at the pool
            conversations.posting.stats.take()
        for thread in senders:
            thread.join()
        assert not [r for r in results if isinstance(r, Exception)]
        assert sorted(r.event.seq for r in results) == list(range(2, 8))
        assert ctx.waiting == 0 and pool.checkedout() == 0 and queue.queued == 0
        # the first leader to get a connection took all six: one transaction
        assert conversations.posting.stats.take()["largest_batch"] == 6
    finally:
        shop.close()


def statements_of(engine, action):
    """The SQL statements ``action()`` sends through ``engine`` (pings and commits aside)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_message_costs_three_statements(shop):
    conversations = shop.chat.conversations
    engine = shop.state.engine
    token = conversations.issue_token()
    cid = conversations.post_customer(shop.visitor_, token, client_id="a",
                                      body="open").event.id_conversation
    # through the group commit (the socket names the conversation it follows): the
    # locking read by id, the insert, the update; no SET of the isolation level, no read-back
    assert statements_of(engine, lambda: conversations.post_customer(
        shop.visitor_, token, client_id="b", body="two", id_conversation=cid)) == [
        "SELECT", "INSERT", "UPDATE"]
    # alone (found by its token only): the locking read also finds a resend
    assert statements_of(engine, lambda: conversations.post_customer(
        shop.visitor_, token, client_id="b2", body="two too")) == ["SELECT", "INSERT", "UPDATE"]
    # the operator's also reads the settings' revision (for the operator name) in the same
    # transaction, once per batch whatever the shops, and nothing after it
    conversations.post_operator(shop.id_employee, shop.id_shop, cid, client_id="c0", body="hi")
    assert statements_of(engine, lambda: conversations.post_operator(
        shop.id_employee, shop.id_shop, cid, client_id="c", body="three")) == [
        "SELECT", "SELECT", "INSERT", "UPDATE"]
    # a resend: no read before the write, the unique index refuses it; alone, the
    # locking read finds it
    assert statements_of(engine, lambda: conversations.post_customer(
        shop.visitor_, token, client_id="b", body="two", id_conversation=cid)) == [
        "SELECT", "INSERT", "SELECT"]


def test_a_seen_mark_locks_its_conversation_once(shop):
    conversations = shop.chat.conversations
    token = conversations.issue_token()
    cid = conversations.post_customer(shop.visitor_, token, client_id="a",
                                      body="hello").event.id_conversation
    conversations.post_operator(shop.id_employee, shop.id_shop, cid, client_id="b",
                                body="hi")
    # the locking read, the mark, the operator's message's date_seen; nothing read twice
    assert statements_of(shop.state.engine, lambda: conversations.seen(
        cid, shop.id_shop, by="customer", seq=2)) == ["SELECT", "UPDATE", "UPDATE"]
    assert statements_of(shop.state.engine, lambda: conversations.seen(
        cid, shop.id_shop, by="customer", seq=2)) == ["SELECT"]  # already seen: no write


@pytest.mark.parametrize("body, cleaned", [
    ("  hello  ", "hello"), ("a\r\nb\rc", "a\nb\nc"), ("tab\there", "tab\there"),
    ("bell\x07 esc\x1b del\x7f c1\x85", "bell esc del c1"), ("<script>", "<script>"),
])
def test_bodies_are_stored_as_given_without_control_characters(body, cleaned):
    assert protocol.clean_body(body, 100) == cleaned


def test_ending_waits_while_the_shop_goes_offline(shop):
    """The last operator going offline archives the finished conversations and ends the
    ongoing ones, reading each status once. A conversation ended meanwhile (ongoing to
    finished) could slip between the two reads and stay finished with nobody online; so
    ending takes the shop's lock first, as going offline does."""
    conversations = shop.chat.conversations
    posted = conversations.post_customer(shop.visitor_, conversations.issue_token(),
                                         client_id="a", body="bye soon")
    waited, event = waits_for_the_shop_lock(shop, lambda: conversations.end(
        posted.event.id_conversation, shop.id_shop, by="customer"))
    assert waited and event.kind == "ended" and event.seq == 2
