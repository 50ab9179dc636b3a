"""The storefront visitor's socket (``<prefix>/ws/visitor``): its own conversation only.

On ``hello`` a visitor resumes the conversation of its token (replaying what it missed)
or is told the shop's availability and given a fresh token; its first message opens the
conversation. An archived conversation is let go and a new token issued.
"""

from __future__ import annotations

from typing import Any

from psonlinechat.chat import protocol
from psonlinechat.chat.broker import Subscription, conversation_channel, visitors_channel
from psonlinechat.chat.engine import Chat
from psonlinechat.chat.protocol import visitor_view
from psonlinechat.errors import ChatError, ConversationArchived
from psonlinechat.shop.identity import Visitor
from psonlinechat.store.conversations import ARCHIVED
from psonlinechat.web.outage import Outage
from psonlinechat.web.sockets.frames import ChatSocket, error_frame
from psonlinechat.web.sockets.outbox import Outbox


class VisitorSocket(ChatSocket):
    """A storefront visitor's socket: only ever its own conversation."""

    frames = protocol.VISITOR_FRAMES
    audience = "visitor"

    def __init__(self, ws: Any, chat: Chat, visitor: Visitor, user_agent: str | None,
                 accept_language: str | None, *, outage: Outage | None = None) -> None:
        super().__init__(ws, chat, outage=outage)
        self.visitor = visitor
        self.id_shop = visitor.id_shop
        self.user_agent, self.accept_language = user_agent, accept_language
        self.token = ""
        self.page_url: str | None = None
        self.id_conversation: int | None = None
        self._conversation_sub: Subscription | None = None
        self.last_state: str | None = None

    def make_outbox(self) -> Outbox:
        return ArchivingOutbox(self, self.ws, self.conversations, self.audience,
                               self.shop_operator_name)

    def on_hello(self, frame: protocol.Frame) -> None:
        page_url = frame.get("page_url")
        self.page_url = page_url[:protocol.MAX_PAGE_URL] if page_url else None
        self.subscribe(visitors_channel(self.visitor.id_shop), self.on_availability)
        token, conversation = frame.get("token"), None
        if token:
            try:
                conversation = self.conversations.find_for_visitor(self.visitor, token)
            except ChatError as exc:
                self.send(error_frame(exc))
                token = None
            if conversation is not None and conversation.status == ARCHIVED:
                conversation, token = None, None
        self.token = token or self.conversations.issue_token()
        if conversation is not None:
            self.follow(conversation.id_conversation, frame.get("last_seq", 0), welcome=True)
            return
        with self.outbox.lock:  # availability changes wait until the welcome is out
            self.last_state = self.conversations.availability(self.visitor.id_shop)
            self.send({"type": "welcome", "state": self.last_state, "conversation": None,
                       "token": self.token, "events": [], "limits": self.limits(),
                       "operator_name": self.conversations.operator_name(self.visitor.id_shop)})

    def follow(self, id_conversation: int, after_seq: int, *, welcome: bool) -> None:
        """Subscribe to the conversation, then send what the log holds after ``after_seq``
        (inside ``welcome`` on hello); live events wait behind and are not doubled."""
        self.id_conversation = id_conversation
        self._conversation_sub = self.subscribe(conversation_channel(id_conversation),
                                                self.outbox.deliver)
        with self.outbox.lock:
            conversation = self.conversations.get(id_conversation)
            assert conversation is not None
            after_seq = min(after_seq, conversation.last_seq)
            events = self.conversations.events_after(id_conversation, after_seq)
            self.outbox.seqs[id_conversation] = events[-1].seq if events else after_seq
            rendered = self.outbox.render(events)
            if welcome:
                self.last_state = "online"
                self.send({"type": "welcome", "state": "online",
                           "conversation": visitor_view(conversation), "token": self.token,
                           "events": rendered, "limits": self.limits(),
                           "operator_name": self.conversations.operator_name(self.id_shop)})
            else:
                for event in rendered:
                    self.send(event)

    def unfollow(self) -> None:
        if self._conversation_sub is not None:
            self._conversation_sub.cancel()
        self._conversation_sub, self.id_conversation = None, None

    def on_message(self, frame: protocol.Frame) -> None:
        client_id, body = self.check_message(frame)
        post = dict(client_id=client_id, body=body, page_url=self.page_url,
                    user_agent=self.user_agent, accept_language=self.accept_language)
        with self.outbox.lock:  # the archive notice may replace both meanwhile
            token, id_conversation = self.token, self.id_conversation
        try:
            try:
                posted = self.conversations.post_customer(
                    self.visitor, token, id_conversation=id_conversation, **post)
            except ConversationArchived:
                self.unfollow()
                token = self.conversations.issue_token()
                posted = self.conversations.post_customer(self.visitor, token, **post)
        except ChatError as exc:
            if exc.code == "unavailable":
                self.last_state = exc.extra["state"]
                self.send({"type": "state", "state": self.last_state})
            raise
        ack: dict[str, Any] = {"type": "ack", "client_id": client_id, "seq": posted.event.seq,
                               "at": protocol.timestamp(posted.event.date_add),
                               "duplicate": posted.duplicate}
        with self.outbox.lock:
            if self.id_conversation != posted.event.id_conversation:
                # it opened the conversation of ``token``: give the token, follow it
                self.token = token
                ack.update(token=token, conversation=visitor_view(posted.conversation))
                self.send(ack)
                self.follow(posted.event.id_conversation, posted.event.seq, welcome=False)
            else:
                self.send(ack)

    def _conversation(self) -> int:
        if self.id_conversation is None:
            raise ChatError("no_conversation", "there is no conversation yet: send a message")
        return self.id_conversation

    def on_typing(self, frame: protocol.Frame) -> None:
        self.conversations.typing(self._conversation(), self.visitor.id_shop,
                                  author="customer", on=frame.get("on"))

    def on_seen(self, frame: protocol.Frame) -> None:
        self.conversations.seen(self._conversation(), self.visitor.id_shop, by="customer",
                                seq=frame.get("seq"))

    def on_end(self, frame: protocol.Frame) -> None:
        self.conversations.end(self._conversation(), self.visitor.id_shop, by="customer")

    def beat(self) -> None:
        """Once per heartbeat: send what the broker may have lost of the conversation."""
        id_conversation = self.id_conversation
        if id_conversation is not None:
            conversation = self.conversations.get(id_conversation)
            if conversation is not None:
                self.outbox.catch_up(conversation)

    def on_availability(self, event: dict[str, Any]) -> None:
        """The shop's availability changed: tell a visitor who has no conversation.

        Not before the welcome (``last_state`` still ``None``): the welcome reads the
        availability after subscribing, so it already tells what an earlier change did.
        """
        with self.outbox.lock:
            if (self.last_state is not None and self.id_conversation is None
                    and event.get("state") != self.last_state):
                self.last_state = event.get("state")
                self.send({"type": "state", "state": self.last_state})


class ArchivingOutbox(Outbox):
    """The visitor's outbox: an archived conversation is let go, with a fresh token."""

    def __init__(self, socket: VisitorSocket, *args: Any) -> None:
        super().__init__(*args)
        self.socket = socket

    def deliver(self, event: dict[str, Any], *, follow_new: bool = False) -> None:
        if event.get("type") == "state" and "conversation" in event:
            with self.lock:
                socket = self.socket
                if event.get("id_conversation") != socket.id_conversation:
                    return  # late: the socket has already let that conversation go
                socket.unfollow()
                socket.token = socket.conversations.issue_token()
                socket.last_state = event.get("state")
                self.send({**event, "token": socket.token})
            return
        super().deliver(event, follow_new=follow_new)
