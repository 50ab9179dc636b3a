"""What the sockets and the plugins are told of a committed change: :class:`Publisher`.

The visitor's socket listens on the conversation's channel, the shop's operators on the
shop's channel (see :mod:`psonlinechat.chat.broker`); each hears a logged event in its own
audience's form. :func:`render` is the one place where logged events become frames: for
the live events published here and for the sockets' replays from the log alike.

Each method but :meth:`Publisher.typing` queues on the transaction that makes the change
(its ``conn``, see :meth:`ChatContext.after_commit`): nothing is said before the commit,
nothing at all if it rolls back. The plugins' ``action_*`` hooks are called from the same
queue, each once the sockets were told of its event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from psonlinechat.chat import protocol
from psonlinechat.chat.broker import conversation_channel, shop_channel
from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.model import Posted
from psonlinechat.store import conversations as repo
from psonlinechat.store.conversations import Event


def render(events: Iterable[Event], *, audience: str,
           operator_name: Callable[[], str]) -> list[dict[str, Any]]:
    """Logged events as ``audience`` (``"visitor"`` or ``"operator"``) sees them: the one
    place where a logged event becomes a frame (docs/protocol.md).

    :param operator_name: the name visitors see under operator messages; asked once, and
        only when an operator's event is among ``events``.
    """
    name: str | None = None
    frames = []
    for event in events:
        if event.author == "operator" and name is None:
            name = operator_name()
        frames.append(protocol.log_event(event, audience=audience, operator_name=name or ""))
    return frames


class Availability(Protocol):
    """What the publisher needs of :class:`~psonlinechat.chat.operators.Operators`."""

    def availability(self, conn: sa.Connection, id_shop: int, *,
                     locking: bool = False) -> str: ...

    def publish_availability(self, id_shop: int) -> str: ...


class Publisher:
    """Queues what the sockets and the plugins hear of a change, on its transaction."""

    def __init__(self, ctx: ChatContext, operators: Availability) -> None:
        self.ctx = ctx
        self.operators = operators

    def posted(self, conn: sa.Connection, posted: Posted) -> None:
        """A message was posted (it may have opened or reopened its conversation)."""
        id_shop = posted.conversation.id_shop
        changed = posted.opened or posted.reopened is not None
        if changed:
            self._summary(conn, posted.event.id_conversation, opened=posted.opened)
        self._logged(conn, [e for e in (posted.reopened, posted.event) if e], id_shop,
                     posted.operator_name)
        if changed:
            self._availability(conn, id_shop)

    def status_changed(self, conn: sa.Connection, event: Event, id_shop: int) -> None:
        """A conversation was ended or reopened (``event``)."""
        self._summary(conn, event.id_conversation, opened=False)
        self._logged(conn, [event], id_shop)
        self._availability(conn, id_shop)

    def seen(self, conn: sa.Connection, id_conversation: int, id_shop: int, *, by: str,
             seq: int) -> None:
        """``by`` has seen the other side's messages up to ``seq``."""
        event = {"type": "seen", "id_conversation": id_conversation, "by": by, "seq": seq}
        self.ctx.publish_after_commit(conn, shop_channel(id_shop), event)
        if by == "operator":
            self.ctx.publish_after_commit(conn, conversation_channel(id_conversation), event)

    def switched(self, conn: sa.Connection, id_shop: int, id_employee: int, *, online: bool,
                 ended: Sequence[Event] = (), archived: Sequence[int] = ()) -> None:
        """An operator switched online or offline; going offline ``ended`` the ongoing
        conversations (nobody left) and ``archived`` these."""
        self._logged(conn, list(ended), id_shop)
        if archived:
            ids = list(archived)
            self.ctx.after_commit(conn, "telling of archived conversations",
                                  lambda: self._archived(id_shop, ids))
            self.ctx.action_after_commit(conn, "action_conversation_archived",
                                         id_shop=id_shop, id_conversations=ids)
        self.ctx.publish_after_commit(conn, shop_channel(id_shop), {
            "type": "status", "id_employee": id_employee, "online": online})
        self._availability(conn, id_shop)

    def typing(self, id_conversation: int, id_shop: int, *, author: str, on: bool) -> None:
        """``author`` is typing (or stopped): nothing is stored, so it is said at once; the
        other side hears it, so do the operators."""
        event = {"type": "typing", "id_conversation": id_conversation, "author": author,
                 "on": on}
        if author == "customer":
            self.ctx.publish(shop_channel(id_shop), event)
        else:
            self.ctx.publish(conversation_channel(id_conversation), event)
            self.ctx.publish(shop_channel(id_shop), event)

    def _logged(self, conn: sa.Connection, events: list[Event], id_shop: int,
                operator_name: str | None = None) -> None:
        """Logged events to the visitor and the operators, then to the plugins; the
        operator name is read (in this transaction) only when an event needs it and
        ``operator_name`` was not given."""
        def name() -> str:
            if operator_name is not None:
                return operator_name
            return self.ctx.module_settings(conn, id_shop).operator_name

        visitor = render(events, audience="visitor", operator_name=name)
        operator = render(events, audience="operator", operator_name=name)
        for event, to_visitor, to_operators in zip(events, visitor, operator, strict=True):
            self.ctx.publish_after_commit(conn, conversation_channel(event.id_conversation),
                                          to_visitor)
            self.ctx.publish_after_commit(conn, shop_channel(id_shop), to_operators)
        for event, to_operators in zip(events, operator, strict=True):
            if event.kind == "message":
                self.ctx.action_after_commit(conn, "action_message_posted", id_shop=id_shop,
                                             id_conversation=event.id_conversation,
                                             message=to_operators)
            elif event.kind == "ended":
                self.ctx.action_after_commit(conn, "action_conversation_ended",
                                             id_shop=id_shop,
                                             id_conversation=event.id_conversation,
                                             by=event.author)

    def _summary(self, conn: sa.Connection, id_conversation: int, *, opened: bool) -> None:
        """Once committed, the conversation's recap line to the operators of its shop (and
        to the plugins when it was just ``opened``)."""
        def tell() -> None:
            conversation = self.ctx.read(
                lambda c: repo.get(c, self.ctx.tables, id_conversation))
            if conversation is None:
                return
            summary = protocol.summary(conversation)
            self.ctx.publish(shop_channel(conversation.id_shop),
                             {"type": "conversation", "conversation": summary})
            if opened:
                self.ctx.actions("action_conversation_opened", id_shop=conversation.id_shop,
                                 conversation=summary)

        self.ctx.after_commit(conn, f"telling of conversation {id_conversation}", tell)

    def _availability(self, conn: sa.Connection, id_shop: int) -> None:
        """Once committed, what the shop's visitors may do now, to them and the operators."""
        def tell() -> None:
            self.operators.publish_availability(id_shop)

        self.ctx.after_commit(conn, f"telling shop {id_shop}'s availability", tell)

    def _archived(self, id_shop: int, ids: list[int]) -> None:
        """Conversations went into the history: their visitors are let go (with what
        they may do now), the operators drop them."""
        state = self.ctx.read(lambda conn: self.operators.availability(conn, id_shop))
        for id_conversation in ids:
            self.ctx.publish(conversation_channel(id_conversation), {
                "type": "state", "state": state, "conversation": None,
                "id_conversation": id_conversation})
            self.ctx.publish(shop_channel(id_shop), {
                "type": "archived", "id_conversation": id_conversation})
