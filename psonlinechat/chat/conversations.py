"""The conversation lifecycle, Flask-free: open, post, end, reopen, seen, replay.

Each conversation is an ordered log of events (messages, ``ended``, ``reopened``) with
sequence numbers 1, 2, 3… Each change queues what the sockets and the plugins hear of it
on its own transaction (:class:`~psonlinechat.chat.publisher.Publisher`), which says it
once committed: what a socket is told is already in the log, a socket that missed an
event reads it back from the log, and a broker failing after the commit is logged, not
raised, so the sender still gets its answer. A sender's ``client_id`` makes a resend
harmless: the first event is returned again, flagged as a duplicate.

Rules (ONLINE_CHAT_GUIDE §3): a visitor's first message opens a conversation if an
operator is present and a place is free (checked under a per-shop lock, so two visitors
racing for the last place cannot both win); operators answer under the shop's operator
name; ending records who ended it and moves it to ``finished``; a customer writing into a
finished conversation reopens it, and so can an operator; going offline archives (see
:mod:`psonlinechat.chat.operators`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.model import ChatError, ConversationArchived, Posted
from psonlinechat.chat.operators import ONLINE, Operators
from psonlinechat.chat.posting import Post, Posting, check_owner
from psonlinechat.chat.tokens import ResumeTokens, token_hash
from psonlinechat.shop.identity import Visitor
from psonlinechat.store import conversations as repo
from psonlinechat.store.conversations import ARCHIVED, FINISHED, ONGOING, Conversation, Event

T = TypeVar("T")


class Conversations:
    """The lifecycle of the shop's conversations, publishing each change after commit."""

    def __init__(self, ctx: ChatContext, operators: Operators) -> None:
        self.ctx = ctx
        self.operators = operators
        self.publisher = operators.publisher
        self.tokens = ResumeTokens(ctx.settings.token_secret())
        self.posting = Posting(ctx, self.publisher)

    def issue_token(self) -> str:
        """A new resume token (see :mod:`psonlinechat.chat.tokens`)."""
        return self.tokens.issue()

    def token_is_ours(self, token: str) -> bool:
        """Whether this server issued ``token``."""
        return self.tokens.is_ours(token)

    def find_for_visitor(self, visitor: Visitor, token: str) -> Conversation | None:
        """The visitor's conversation behind ``token``, ``None`` when none was opened yet.

        :raises ChatError: ``invalid_token``: not a token of ours, or it names a
            conversation of another shop or another signed-in customer.
        """
        if not self.token_is_ours(token):
            raise ChatError("invalid_token", "this conversation token is not valid")
        conversation = self.ctx.read(
            lambda conn: repo.find_by_token(conn, self.ctx.tables, token_hash(token)))
        if conversation is not None:
            check_owner(conversation, visitor)
        return conversation

    # --- reads ----------------------------------------------------------------------------

    # Each read is tried again on a fresh connection when the connection was lost
    # (ChatContext.read); each raises ShopError when the database is still away.

    def get(self, id_conversation: int) -> Conversation | None:
        return self.ctx.read(lambda conn: repo.get(conn, self.ctx.tables, id_conversation))

    def active(self, id_shop: int) -> list[Conversation]:
        """The shop's ongoing and finished conversations (the operators' recap)."""
        return self.ctx.read(lambda conn: repo.list_active(conn, self.ctx.tables, id_shop))

    def events_after(self, id_conversation: int, after_seq: int,
                     until_seq: int | None = None) -> list[Event]:
        """The logged events after ``after_seq`` (and up to ``until_seq``), in order."""
        return self.ctx.read(lambda conn: repo.events_after(
            conn, self.ctx.tables, id_conversation, after_seq, until_seq))

    def operator_name(self, id_shop: int) -> str:
        """The name visitors see under operator messages."""
        return self.ctx.read(lambda conn: self.ctx.module_settings(conn, id_shop).operator_name)

    def availability(self, id_shop: int) -> str:
        """What a visitor without a conversation may do (see :meth:`Operators.availability`)."""
        return self.ctx.read(lambda conn: self.operators.availability(conn, id_shop))

    # --- the customer's side ----------------------------------------------------------

    def post_customer(self, visitor: Visitor, token: str, *, client_id: str, body: str,
                      page_url: str | None = None, user_agent: str | None = None,
                      accept_language: str | None = None,
                      id_conversation: int | None = None) -> Posted:
        """Post the visitor's message; the first one opens the conversation of ``token``,
        one into a finished conversation reopens it.

        :param id_conversation: ``token``'s, as its socket follows it: group commit then.
        :raises ChatError: ``invalid_token``; ``unavailable`` (with ``state``) when no
            conversation can be opened now.
        :raises ConversationArchived: the token's conversation was archived.
        """
        hashed = token_hash(token)
        if id_conversation is not None and (posted := self.posting.post(Post(
                "customer", client_id, body, visitor.id_shop, id_conversation,
                visitor=visitor, token_hash=hashed))) is not None:
            return posted
        t, now = self.ctx.tables, self.ctx.clock()

        def work(conn: sa.Connection) -> Posted:
            locked = repo.lock_for_post(conn, t, token_hash=hashed, author="customer",
                                        client_id=client_id)
            if locked is None:
                return self._open(conn, visitor, hashed, client_id, body, page_url,
                                  user_agent, accept_language)
            conversation, duplicate = locked
            check_owner(conversation, visitor)
            if duplicate is not None:
                return Posted(duplicate, conversation, duplicate=True)
            if conversation.status == ARCHIVED:
                raise ConversationArchived()
            conversation, reopened = (self._reopen_for_customer(conn, conversation, now)
                                      if conversation.status == FINISHED else (conversation, None))
            event = self._append(conn, conversation, "message", "customer", body=body,
                                 client_id=client_id)
            return self._posted(conn, Posted(
                event, dataclasses.replace(conversation, last_seq=event.seq),
                reopened=reopened))

        return self._alone(work)

    def _reopen_for_customer(self, conn: sa.Connection, conversation: Conversation,
                             now: dt.datetime) -> tuple[Conversation, Event]:
        """Log ``reopened`` in a finished (locked) conversation the customer writes into;
        return the conversation as it now is, and that event."""
        reopened = self._append(conn, conversation, "reopened", "customer",
                                **repo.status_values(ONGOING, now))
        return dataclasses.replace(conversation, last_seq=reopened.seq, status=ONGOING,
                                   ended_by=None, id_employee_ended=None,
                                   date_end=None), reopened

    def _open(self, conn: sa.Connection, visitor: Visitor, hashed: str, client_id: str,
              body: str, page_url: str | None, user_agent: str | None,
              accept_language: str | None) -> Posted:
        t = self.ctx.tables
        repo.lock_shop(conn, t, visitor.id_shop)
        state = self.operators.availability(conn, visitor.id_shop, locking=True)
        if state != ONLINE:
            raise ChatError("unavailable", "no operator can take a conversation now",
                            state=state)
        id_guest = None
        if visitor.id_customer is None:
            id_guest = self.ctx.create_guest(conn, t, id_customer=None, user_agent=user_agent,
                                             accept_language=accept_language)
        id_conversation = repo.insert(
            conn, t, id_shop=visitor.id_shop, id_lang=visitor.id_lang,
            id_customer=visitor.id_customer, id_guest=id_guest, token_hash=hashed,
            page_url=page_url, user_agent=(user_agent or "")[:512] or None,
            now=self.ctx.clock())
        conversation = repo.get(conn, t, id_conversation)
        assert conversation is not None
        event = self._append(conn, conversation, "message", "customer", body=body,
                             client_id=client_id)
        conversation = dataclasses.replace(conversation, last_seq=event.seq,
                                           last_message_at=event.date_add,
                                           last_customer_message=body,
                                           last_customer_message_at=event.date_add)
        return self._posted(conn, Posted(event, conversation, opened=True))

    # --- the operator's side ------------------------------------------------------------

    def _locked(self, conn: sa.Connection, id_conversation: int, id_shop: int) -> Conversation:
        conversation = repo.get_for_update(conn, self.ctx.tables, id_conversation)
        if conversation is None or conversation.id_shop != id_shop:
            raise ChatError("not_found", f"no conversation {id_conversation} in this shop",
                            id_conversation=id_conversation)
        return conversation

    def post_operator(self, id_employee: int, id_shop: int, id_conversation: int, *,
                      client_id: str, body: str) -> Posted:
        """Post an operator's answer into an ongoing conversation of the shop.

        :raises ChatError: ``not_found`` (not a conversation of this shop), ``not_ongoing``
            (finished or archived: reopen it first).
        """
        posted = self.posting.post(Post("operator", client_id, body, id_shop, id_conversation,
                                        id_employee=id_employee))
        if posted is not None:
            return posted
        t = self.ctx.tables

        def work(conn: sa.Connection) -> Posted:
            locked = repo.lock_for_post(conn, t, id_conversation=id_conversation,
                                        author="operator", client_id=client_id)
            if locked is None or locked[0].id_shop != id_shop:
                raise ChatError("not_found", f"no conversation {id_conversation} in this shop",
                                id_conversation=id_conversation)
            conversation, duplicate = locked
            if duplicate is not None:
                return Posted(duplicate, conversation, duplicate=True)
            if conversation.status != ONGOING:
                raise ChatError("not_ongoing", f"the conversation is {conversation.status}; "
                                "reopen it to answer", id_conversation=id_conversation)
            event = self._append(conn, conversation, "message", "operator", body=body,
                                 client_id=client_id, id_employee=id_employee)
            return self._posted(conn, Posted(
                event, dataclasses.replace(conversation, last_seq=event.seq),
                operator_name=self.ctx.module_settings(conn, id_shop).operator_name))

        return self._alone(work)

    def end(self, id_conversation: int, id_shop: int, *, by: str,
            id_employee: int | None = None) -> Event | None:
        """End an ongoing conversation (``by`` customer or operator); ``None`` if it was
        already finished.

        :raises ChatError: ``not_found``; ``archived``.
        """
        return self._change_status(id_conversation, id_shop, FINISHED, "ended", by,
                                   id_employee, ended_by=by, id_employee_ended=id_employee)

    def reopen(self, id_conversation: int, id_shop: int, *, id_employee: int) -> Event | None:
        """An operator reopens a finished conversation; ``None`` if it was ongoing.

        :raises ChatError: ``not_found``; ``archived``.
        """
        return self._change_status(id_conversation, id_shop, ONGOING, "reopened", "operator",
                                   id_employee)

    def _change_status(self, id_conversation: int, id_shop: int, status: str, kind: str,
                       author: str, id_employee: int | None, **columns: Any) -> Event | None:
        """Log ``kind`` and move the conversation to ``status`` in one transaction, told
        after its commit; ``None`` (nothing written) when it already is in ``status``.

        :raises ChatError: ``not_found``; ``archived``.
        """
        now = self.ctx.clock()

        def work(conn: sa.Connection) -> Event | None:
            # The shop's lock first, as going offline takes it (then the rows): a status
            # changing meanwhile could slip between its reads of finished and ongoing ones.
            repo.lock_shop(conn, self.ctx.tables, id_shop)
            conversation = self._locked(conn, id_conversation, id_shop)
            if conversation.status == ARCHIVED:
                raise ChatError("archived", "the conversation is archived")
            if conversation.status == status:
                return None
            event = self._append(conn, conversation, kind, author, id_employee=id_employee,
                                 **repo.status_values(status, now, **columns))
            self.publisher.status_changed(conn, event, id_shop)
            return event

        return self._run(work)

    def seen(self, id_conversation: int, id_shop: int, *, by: str, seq: int) -> int:
        """Mark the other side's messages up to ``seq`` as seen by ``by``; tell the other
        side. Returns the seen mark (it never moves back).

        :raises ChatError: ``not_found``.
        """
        t = self.ctx.tables
        now = self.ctx.clock()

        def work(conn: sa.Connection) -> int:
            conversation = self._locked(conn, id_conversation, id_shop)
            before = (conversation.customer_seen_seq if by == "customer"
                      else conversation.operator_seen_seq)
            mark = repo.mark_seen(conn, t, conversation, by=by, seq=seq, now=now)
            if mark > before:
                self.publisher.seen(conn, id_conversation, id_shop, by=by, seq=mark)
            return mark

        return self._run(work)

    def typing(self, id_conversation: int, id_shop: int, *, author: str, on: bool) -> None:
        """Tell the other side that ``author`` is typing (or stopped); nothing is stored."""
        self.publisher.typing(id_conversation, id_shop, author=author, on=on)

    # --- internals ------------------------------------------------------------------------

    def _posted(self, conn: sa.Connection, posted: Posted) -> Posted:
        """``posted``, told after the commit of ``conn``'s transaction."""
        self.publisher.posted(conn, posted)
        return posted

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            return self.ctx.transaction(work)
        except sa.exc.IntegrityError:
            # A concurrent resend of the same client id, or a second socket opening the
            # same token: the other transaction won; this retry finds its result.
            return self.ctx.transaction(work)

    def _alone(self, work: Callable[[sa.Connection], Posted]) -> Posted:
        """:meth:`_run` for a message posted alone, counted with the batches (a batch of
        one, unless a resend: nothing was committed)."""
        started = time.monotonic()
        posted = self._run(work)
        if not posted.duplicate:
            self.posting.stats.committed(1, time.monotonic() - started)
        return posted

    def _append(self, conn: sa.Connection, locked: Conversation, kind: str, author: str, *,
                body: str = "", client_id: str | None = None,
                id_employee: int | None = None, **columns: Any) -> Event:
        """Log an event after ``locked`` (a conversation whose row this transaction locked,
        as it is now) and note it on the conversation, with ``columns``."""
        return repo.append(conn, self.ctx.tables, id_conversation=locked.id_conversation,
                           seq=locked.last_seq + 1, kind=kind, author=author,
                           now=self.ctx.clock(), body=body, id_employee=id_employee,
                           client_id=client_id, **columns)
