"""Messages into open conversations, committed together: :class:`Posting`.

A message into an ongoing conversation goes through the group commit
(:mod:`psonlinechat.chat.batch`): the messages waiting at that moment share one READ
COMMITTED transaction that locks their conversations with one read by id (a customer's
must also hold the conversation's token: the socket names the conversation it follows),
logs them with one multi-row INSERT and notes them with one UPDATE
(:mod:`psonlinechat.store.batches`), then tells the sockets of each once committed. Each
handler gets its own outcome after that commit, never before.

A message the batch cannot take is answered :data:`ALONE`, and its handler posts it
alone (:class:`~psonlinechat.chat.conversations.Conversations`): a customer's whose
conversation is found by its token only, one reopening a finished conversation, and,
when the log's unique index refused a client id already logged (a resend), or the batch
failed otherwise with the database still there, every message of the batch: alone, a
resend is answered as such and one failing message fails alone. When the connection is
lost and stays lost, every handler of the batch gets that error and acknowledges nothing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from psonlinechat.chat.batch import CommitStats, GroupCommit
from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.model import ChatError, ConversationArchived, Posted
from psonlinechat.chat.publisher import Publisher
from psonlinechat.errors import ShopError
from psonlinechat.shop.identity import Visitor
from psonlinechat.store import batches
from psonlinechat.store.conversations import ARCHIVED, FINISHED, ONGOING, Conversation, Event

#: Batches committed at once, each on its own connection (one commits while the next fills).
SLOTS = 2
#: Messages one batch takes at most.
MAX_BATCH = 500


class _Alone:
    def __repr__(self) -> str:
        return "ALONE"


#: The outcome of a message the batch did not take: its handler posts it alone.
ALONE: Any = _Alone()


@dataclasses.dataclass(frozen=True)
class Post:
    """A message waiting for its batch into conversation ``id_conversation``: a
    customer's (``visitor``, and ``token_hash``, which the conversation must have) or an
    operator's (``id_employee``)."""

    author: str
    client_id: str
    body: str
    id_shop: int
    id_conversation: int
    visitor: Visitor | None = None
    token_hash: str | None = None
    id_employee: int | None = None


def check_owner(conversation: Conversation, visitor: Visitor) -> None:
    """:raises ChatError: ``invalid_token`` unless the conversation is of the visitor's
        shop and, when a signed-in customer opened it, of that customer."""
    if conversation.id_shop != visitor.id_shop or (
            conversation.id_customer is not None
            and conversation.id_customer != visitor.id_customer):
        raise ChatError("invalid_token", "this conversation token is not valid")


class Posting:
    """The group commit of messages into open conversations (see the module docstring).

    :param stats: counts each committed batch (size, commit time).
    """

    def __init__(self, ctx: ChatContext, publisher: Publisher, *, slots: int = SLOTS,
                 max_batch: int = MAX_BATCH, stats: CommitStats | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ctx, self.publisher = ctx, publisher
        self.stats = stats or CommitStats(monotonic)
        self._monotonic = monotonic
        self.queue: GroupCommit[Post, Posted] = GroupCommit(
            self._commit, slots=slots, max_batch=max_batch)

    def post(self, post: Post) -> Posted | None:
        """``post`` committed with the messages arriving with it; ``None`` when the
        caller must post it alone (:data:`ALONE`, see the module docstring).

        :raises ChatError: ``invalid_token`` (a customer's), ``not_found``,
            ``not_ongoing`` (an operator's).
        :raises ConversationArchived: the customer's conversation was archived.
        :raises ShopError: the database failed, or is still away.
        """
        outcome = self.queue.submit(post)
        return None if outcome is ALONE else outcome

    def _commit(self, take: Callable[[], list[Post]]) -> list[Any]:
        """Commit the batch ``take()`` gives in one transaction, once a connection is there;
        one outcome per message (see :class:`GroupCommit`)."""
        try:
            return self.ctx.transaction(lambda conn: self._write(conn, take()))
        except sa.exc.IntegrityError:
            return [ALONE] * len(take())  # a resend: each finds its own alone
        except ShopError as exc:
            if exc.lost or len(take()) == 1:
                raise
            return [ALONE] * len(take())  # one failing message fails alone

    def _write(self, conn: sa.Connection, posts: list[Post]) -> list[Any]:
        if not posts:  # another batch took them all meanwhile
            return []
        started = self._monotonic()
        t = self.ctx.tables
        locked = batches.lock_conversations(conn, t, (p.id_conversation for p in posts))
        by_id = {conversation.id_conversation: conversation for conversation, _ in locked}
        tokens = {conversation.id_conversation: hashed for conversation, hashed in locked}
        now = self.ctx.clock()
        names = self._operator_names(conn, {p.id_shop for p in posts if p.author == "operator"})
        outcomes: list[Any] = []
        for post in posts:
            found = self._target(post, by_id, tokens)
            if not isinstance(found, Conversation):
                outcomes.append(found)
                continue
            event = Event(found.id_conversation, found.last_seq + 1, "message", post.author,
                          post.id_employee, post.body, post.client_id, now, None)
            conversation = by_id[found.id_conversation] = dataclasses.replace(
                found, last_seq=event.seq)
            outcomes.append(Posted(event, conversation, operator_name=names.get(post.id_shop)
                                   if post.author == "operator" else None))
        posted = [outcome for outcome in outcomes if isinstance(outcome, Posted)]
        batches.append_messages(conn, t, [p.event for p in posted], now)
        self.ctx.after_commit(conn, "counting a batch", lambda: self.stats.committed(
            len(posted), self._monotonic() - started))
        for outcome in posted:
            self.publisher.posted(conn, outcome)
        return outcomes

    def _operator_names(self, conn: sa.Connection, shops: set[int]) -> dict[int, str]:
        """The operator name of each of ``shops`` (the settings store's cache answers, checked
        against the settings' revision)."""
        return {id_shop: self.ctx.module_settings(conn, id_shop).operator_name
                for id_shop in shops}

    @staticmethod
    def _target(post: Post, by_id: dict[int, Conversation],
                tokens: dict[int, str]) -> Conversation | Exception | Any:
        """The locked conversation ``post`` goes into, as this batch left it so far; else
        the refusal its handler raises, or :data:`ALONE`."""
        conversation = by_id.get(post.id_conversation)
        if post.author == "customer":
            assert post.visitor is not None
            if (conversation is None or tokens.get(post.id_conversation) != post.token_hash
                    or conversation.status == FINISHED):
                return ALONE  # found by its token alone; or it reopens the conversation
            try:
                check_owner(conversation, post.visitor)
            except ChatError as exc:
                return exc
            return ConversationArchived() if conversation.status == ARCHIVED else conversation
        if conversation is None or conversation.id_shop != post.id_shop:
            return ChatError("not_found", f"no conversation {post.id_conversation} in this "
                             "shop", id_conversation=post.id_conversation)
        if conversation.status != ONGOING:
            return ChatError("not_ongoing", f"the conversation is {conversation.status}; "
                             "reopen it to answer", id_conversation=post.id_conversation)
        return conversation
