"""The group commit of messages: messages arriving together share one transaction, none is
acknowledged before that commit, and a message whose batch fails to commit is never
acknowledged and is accepted when sent again.

A batch is formed for real: both places of a pool of two are held by slow transactions
while the messages queue, then let go. The database itself fails the batch: a trigger on
the log refuses a body (an error the database reports), or reports the connection lost
(as the driver sees a connection cut during a statement).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from psonlinechat import testing
from psonlinechat.chat.batch import GroupCommit
from psonlinechat.chat.retry import Retry
from psonlinechat.errors import ShopError
from psonlinechat.shop.identity import Visitor
from psonlinechat.web.extension import chat_for
from tests.support.chatclient import ChatShop, holding_the_pool


@pytest.fixture
def small(mariadb) -> Iterator[Any]:
    """A chat over a pool of two, an operator online, three open conversations."""
    shop = ChatShop(pool_size=2, heartbeat_seconds=10)
    try:
        with shop.db.engine.begin() as conn:
            shop.id_employee = testing.add_employee(conn, shop.db.tables, email="op@example.test")
        shop.chat = chat = chat_for(shop.state)
        chat.ctx.retry = Retry(outage_seconds=0.3, first_pause=0.05, longest_pause=0.1)
        chat.operators.socket_opened(shop.id_employee, shop.id_shop)
        chat.operators.set_status(shop.id_employee, shop.id_shop, True)
        shop.visitor_ = Visitor(id_shop=shop.id_shop, id_lang=shop.db.ids["en"])
        shop.tokens = [chat.conversations.issue_token() for _ in range(3)]
        shop.cids = [chat.conversations.post_customer(shop.visitor_, token, client_id="open",
                                                      body="hello").event.id_conversation
                     for token in shop.tokens]
        yield shop
    finally:
        shop.close()


def in_one_batch(shop: Any, sends: list[Callable[[], Any]]) -> list[Any]:
    """Run ``sends`` at once while the pool is held, so that they queue and go in one
    batch once it is let go; each one's result, or what it raised."""
    ctx, queue = shop.chat.ctx, shop.chat.conversations.posting.queue
    results: list[Any] = [None] * len(sends)

    def run(n: int) -> None:
        try:
            results[n] = sends[n]()
        except Exception as exc:  # reported by the caller's assertions
            results[n] = exc

    senders = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(len(sends))]
    try:
        with holding_the_pool(ctx):
            for thread in senders:
                thread.start()
            deadline = time.monotonic() + 30
            while queue.queued < len(sends) and time.monotonic() < deadline:
                threading.Event().wait(0.01)
            assert queue.queued == len(sends)  # all waiting: one batch takes them
    finally:
        for thread in senders:
            if thread.ident is not None:
                thread.join(timeout=60)
    return results


def poison(shop: Any, errno: int) -> None:
    """A trigger on the log: a body starting with ``poison`` fails its INSERT with ``errno``."""
    with shop.db.engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE TRIGGER psoc_poison BEFORE INSERT ON `{shop.db.tables.message.name}` "
            "FOR EACH ROW BEGIN IF NEW.body LIKE 'poison%' THEN SIGNAL SQLSTATE 'HY000' "
            f"SET MESSAGE_TEXT = 'refused by the test', MYSQL_ERRNO = {errno}; END IF; END"))


def cure(shop: Any) -> None:
    with shop.db.engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER IF EXISTS psoc_poison"))


def logged(shop: Any, id_conversation: int) -> list[tuple[int, str, str]]:
    return [(e.seq, e.client_id, e.body)
            for e in shop.chat.conversations.events_after(id_conversation, 0)]


def customer(shop: Any, n: int, client_id: str, body: str) -> Callable[[], Any]:
    """A message of conversation ``n``'s visitor, whose socket follows it."""
    return lambda: shop.chat.conversations.post_customer(
        shop.visitor_, shop.tokens[n], client_id=client_id, body=body,
        id_conversation=shop.cids[n])


def operator(shop: Any, n: int, client_id: str, body: str) -> Callable[[], Any]:
    return lambda: shop.chat.conversations.post_operator(
        shop.id_employee, shop.id_shop, shop.cids[n], client_id=client_id, body=body)


def test_messages_arriving_together_share_one_commit(small):
    small.chat.conversations.posting.stats.take()
    results = in_one_batch(small, [customer(small, 0, "a", "one"), operator(small, 0, "b", "two"),
                                   customer(small, 1, "c", "three"),
                                   customer(small, 0, "d", "four")])
    assert not [r for r in results if isinstance(r, Exception)]
    assert [r.event.seq for r in results] == [2, 3, 2, 4]  # each conversation gapless
    figures = small.chat.conversations.posting.stats.take()
    assert figures["largest_batch"] == 4 and figures["batches"] == 1
    assert logged(small, small.cids[0]) == [(1, "open", "hello"), (2, "a", "one"),
                                            (3, "b", "two"), (4, "d", "four")]
    [row] = small.query(sa.select(small.db.tables.conversation.c.last_seq,
                                  small.db.tables.conversation.c.last_customer_message)
                        .where(small.db.tables.conversation.c.id_conversation == small.cids[0]))
    assert tuple(row) == (4, "four")


def test_a_message_whose_batch_fails_is_never_acked_and_is_accepted_when_resent(small):
    """The database refuses one message: its batch fails; the others are then committed
    alone and acknowledged, the refused one never is; sent again, it is accepted."""
    poison(small, 1644)
    try:
        results = in_one_batch(small, [customer(small, 0, "a", "fine"),
                                       customer(small, 1, "p", "poison pill"),
                                       operator(small, 2, "o", "fine too")])
    finally:
        cure(small)
    fine, refused, fine_too = results
    assert isinstance(refused, ShopError) and not refused.lost
    assert (fine.event.seq, fine_too.event.seq) == (2, 2)
    assert logged(small, small.cids[1]) == [(1, "open", "hello")]  # nothing of it stored
    again = customer(small, 1, "p", "poison pill")()
    assert (again.event.seq, again.duplicate) == (2, False)
    assert logged(small, small.cids[1]) == [(1, "open", "hello"), (2, "p", "poison pill")]


def test_a_batch_whose_connection_is_lost_acks_nothing_and_resends_are_accepted(small):
    """The connection is lost during the batch and stays lost past the retries: every
    message of the batch fails, none is stored; sent again, each is accepted once."""
    poison(small, 2013)  # "lost connection to server during query", as the driver says
    try:
        results = in_one_batch(small, [customer(small, 0, "a", "first"),
                                       operator(small, 1, "b", "poison: cut here"),
                                       customer(small, 2, "c", "third")])
    finally:
        cure(small)
    assert all(isinstance(r, ShopError) and r.lost for r in results), results
    for n in range(3):
        assert logged(small, small.cids[n]) == [(1, "open", "hello")]
    resent = [customer(small, 0, "a", "first")(), operator(small, 1, "b", "poison: cut here")(),
              customer(small, 2, "c", "third")()]
    assert [(r.event.seq, r.duplicate) for r in resent] == [(2, False)] * 3
    again = customer(small, 0, "a", "first")()
    assert (again.event.seq, again.duplicate) == (2, True)
    assert [len(logged(small, cid)) for cid in small.cids] == [2, 2, 2]


def test_every_handler_gets_its_own_outcome_and_the_leaders_role_is_never_lost():
    """Many handlers at once, commits of varying length, batches of at most three over two
    slots: each handler gets the outcome of its own item, a failed batch fails only its
    own items, and once everything is done no leader is left counted (a role handed to an
    item that another leader took meanwhile is passed on, not lost)."""
    rng = random.Random(12)
    seen: list[list[int]] = []

    def commit(take):
        threading.Event().wait(rng.random() * 0.002)  # waiting for a connection
        items = take()
        seen.append(list(items))
        if 13 in items:
            raise ShopError("refused by the test")
        return [ValueError(item) if item % 7 == 0 else item * 2 for item in items]

    queue = GroupCommit(commit, slots=2, max_batch=3)
    outcomes: dict[int, Any] = {}

    def handler(n: int) -> None:
        for item in range(n * 100, n * 100 + 20):
            try:
                outcomes[item] = queue.submit(item)
            except Exception as exc:  # the outcome under test
                outcomes[item] = exc

    threads = [threading.Thread(target=handler, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 600 and queue.queued == 0 and queue._leaders == 0
    failed_batch = next(batch for batch in seen if 13 in batch)
    for item, outcome in outcomes.items():
        if item in failed_batch:
            assert isinstance(outcome, ShopError)
        elif item % 7 == 0:
            assert isinstance(outcome, ValueError) and outcome.args == (item,)
        else:
            assert outcome == item * 2
    assert max(len(batch) for batch in seen) == 3
    assert sorted(item for batch in seen for item in batch) == sorted(outcomes)
