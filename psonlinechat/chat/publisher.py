"""What the sockets are told of a conversation's committed changes: :class:`Publisher`.

The visitor's socket listens on the conversation's channel, the shop's operators on the
shop's channel (see :mod:`psonlinechat.chat.broker`); each hears a logged event in its own
audience's form (:func:`protocol.log_event`). Everything published here is already
committed, and publishing never raises (:meth:`ChatContext.publish`): a socket that missed
an event reads it back from the log.
"""

from __future__ import annotations


from psonlinechat.chat import protocol
from psonlinechat.chat.broker import conversation_channel, shop_channel
from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.model import Posted
from psonlinechat.chat.operators import Operators
from psonlinechat.store import conversations as repo
from psonlinechat.store.conversations import Event



class Publisher:
    """Publishes the changes :class:`~psonlinechat.chat.conversations.Conversations` committed."""

    def __init__(self, ctx: ChatContext, operators: Operators) -> None:
        self.ctx = ctx
        self.operators = operators

    def posted(self, posted: Posted) -> None:
        """A message was posted (it may have opened or reopened its conversation)."""
        id_shop = posted.conversation.id_shop
        if posted.opened or posted.reopened:
            self._summary(posted.event.id_conversation)
        self._events([e for e in (posted.reopened, posted.event) if e], id_shop,
                     posted.operator_name)
        if posted.opened or posted.reopened:
            self.operators.publish_availability(id_shop)

    def status_changed(self, event: Event, id_shop: int) -> None:
        """A conversation was ended or reopened (``event``)."""
        self._summary(event.id_conversation)
        self._events([event], id_shop)
        self.operators.publish_availability(id_shop)

    def seen(self, id_conversation: int, id_shop: int, *, by: str, seq: int) -> None:
        """``by`` has seen the other side's messages up to ``seq``."""
        event = {"type": "seen", "id_conversation": id_conversation, "by": by, "seq": seq}
        self.ctx.publish(shop_channel(id_shop), event)
        if by == "operator":
            self.ctx.publish(conversation_channel(id_conversation), event)

    def typing(self, id_conversation: int, id_shop: int, *, author: str, on: bool) -> None:
        """``author`` is typing (or stopped): the other side hears it, so do the operators."""
        event = {"type": "typing", "id_conversation": id_conversation, "author": author,
                 "on": on}
        if author == "customer":
            self.ctx.publish(shop_channel(id_shop), event)
        else:
            self.ctx.publish(conversation_channel(id_conversation), event)
            self.ctx.publish(shop_channel(id_shop), event)

    def _events(self, events: list[Event], id_shop: int,
                operator_name: str | None = None) -> None:
        """Publish logged events to the visitor and the operators; the operator name is
        read only when an event needs it and ``operator_name`` was not given."""
        name = operator_name or ""
        if operator_name is None and any(e.author == "operator" for e in events):
            with self.ctx.connect() as conn:
                name = self.ctx.module_settings(conn, id_shop).operator_name
        for event in events:
            self.ctx.publish(conversation_channel(event.id_conversation),
                             protocol.log_event(event, audience="visitor", operator_name=name))
            self.ctx.publish(shop_channel(id_shop),
                             protocol.log_event(event, audience="operator", operator_name=name))

    def _summary(self, id_conversation: int) -> None:
        """The conversation's recap line, to the operators of its shop."""
        with self.ctx.connect() as conn:
            conversation = repo.get(conn, self.ctx.tables, id_conversation)
        if conversation is not None:
            self.ctx.publish(shop_channel(conversation.id_shop), {
                "type": "conversation", "conversation": protocol.summary(conversation)})
