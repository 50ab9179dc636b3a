"""The WebSocket edge: ``<prefix>/ws/visitor`` and ``<prefix>/ws/operator`` (flask-sock).

Thin: the handshake is checked (Origin; an employee for the operator socket) before the
upgrade, frames are parsed by :mod:`protocol`, actions go to :mod:`conversations` and
:mod:`operators`, and events come back from the broker through an :class:`Outbox` that
delivers each conversation's events in order, once, filling gaps from the log.
docs/protocol.md is the reference of every frame.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import deque
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from . import protocol
from .broker import (Subscription, conversation_channel, from_settings, shop_channel,
                     visitors_channel)
from .conversations import (ChatError, ConversationArchived, Conversations, summary,
                            visitor_view)
from .identity import Employee, Visitor
from .operators import ChatContext, Operators
from .protocol import ProtocolError
from .repositories import shops
from .repositories.conversations import ARCHIVED, Event

if TYPE_CHECKING:
    from .extension import ChatState

VISITOR_PATH, OPERATOR_PATH = "/ws/visitor", "/ws/operator"
_SERVICE = "chat"
_HOSTS_TTL = 30.0


class Chat:
    """One app's chat engine: broker, operators, conversations (``state.services["chat"]``)."""

    def __init__(self, state: ChatState) -> None:
        from .repositories.guests import create_guest

        s = state.settings
        self.state = state
        self.broker = from_settings(s.redis_url, s.database_url or "", s.table_prefix)
        self.ctx = ChatContext(engine=state.engine, tables=state.tables, broker=self.broker,
                               settings=s, module_settings=state.module_settings,
                               create_guest=create_guest)
        self.operators = Operators(self.ctx)
        self.conversations = Conversations(self.ctx, self.operators)
        self._hosts: tuple[float, set[str]] = (0.0, set())

    def shop_hosts(self) -> set[str]:
        """Every host of the shop's ``shop_url`` rows (cached for 30 seconds)."""
        at, hosts = self._hosts
        if time.monotonic() - at > _HOSTS_TTL:
            with self.state.engine.connect() as conn:
                hosts = {host.lower() for host in shops.shop_hosts(conn, self.ctx.tables)}
            self._hosts = (time.monotonic(), hosts)
        return hosts

    def close(self) -> None:
        """Stop the sweeper and the broker."""
        self.operators.close()
        self.broker.close()


def chat_for(state: ChatState) -> Chat:
    """The app's :class:`Chat`, made on first use.

    :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
    """
    chat = state.services.get(_SERVICE)
    if chat is None:
        state.tables  # noqa: B018 - detect the schema first: it takes the same lock
        with state._lock:
            chat = state.services.get(_SERVICE)
            if chat is None:
                chat = state.services[_SERVICE] = Chat(state)
    return chat


def shutdown(state: ChatState) -> None:
    """Stop the app's chat engine if it was started (tests, worker exit)."""
    chat = state.services.pop(_SERVICE, None)
    if chat is not None:
        chat.close()


def origin_allowed(origin: str | None, host: str, shop_hosts: set[str],
                   allowed_origins: tuple[str, ...]) -> bool:
    """Whether a handshake's ``Origin`` may open a socket: the request's own host, a shop
    host (any port when the shop_url names none), or one of ``allowed_origins``."""
    if not origin:
        return False
    parts = urllib.parse.urlsplit(origin.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    netloc = parts.netloc.lower()
    if netloc == host.lower():
        return True
    if f"{parts.scheme}://{netloc}" in {o.rstrip("/").lower() for o in allowed_origins}:
        return True
    return any(netloc == h or (":" not in h and parts.hostname == h) for h in shop_hosts)


class RateLimiter:
    """At most ``limit`` events in any ``window`` seconds (a sliding log)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._times: deque[float] = deque()

    def check(self) -> None:
        """Count one event.

        :raises ProtocolError: ``rate_limited`` (with ``retry_after`` seconds).
        """
        now = time.monotonic()
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            retry = round(self.window - (now - self._times[0]), 3)
            raise ProtocolError("rate_limited", f"at most {self.limit} per {self.window:g} "
                                "seconds; slow down", retry_after=retry)
        self._times.append(now)


class Outbox:
    """Sends events to one socket: one at a time, and each conversation's logged events
    in sequence order, exactly once (late or repeated ones are dropped, a gap is filled
    from the log first)."""

    def __init__(self, ws: Any, conversations: Conversations, audience: str,
                 operator_name: Any) -> None:
        self.ws = ws
        self.conversations = conversations
        self.audience = audience
        self.operator_name = operator_name  # () -> str
        self.lock = threading.RLock()
        self.seqs: dict[int, int] = {}
        self.closed = False

    def send(self, event: dict[str, Any]) -> None:
        with self.lock:
            if self.closed:
                return
            try:
                self.ws.send(protocol.dumps(event))
            except (ConnectionClosed, OSError):
                self.closed = True

    def render(self, events: list[Event]) -> list[dict[str, Any]]:
        name = self.operator_name()
        return [protocol.log_event(e, audience=self.audience, operator_name=name)
                for e in events]

    def deliver(self, event: dict[str, Any], *, follow_new: bool = False) -> None:
        """Send a broker event; a logged one only in order (see class docstring).

        :param follow_new: accept conversations this socket has not seen yet (operators).
        """
        if event.get("type") not in protocol.LOG_KINDS:
            self.send(event)
            return
        seq, id_conversation = event["seq"], event["id_conversation"]
        with self.lock:
            last = self.seqs.get(id_conversation)
            if last is None:
                if not follow_new:
                    return
                last = 0
            if seq <= last:
                return
            if seq > last + 1:
                for missed in self.render(self.conversations.events_after(
                        id_conversation, last, seq - 1)):
                    self.send(missed)
            self.send(event)
            self.seqs[id_conversation] = seq


class _Socket:
    """The frame loop shared by both sockets: heartbeats, limits, errors."""

    frames: dict[str, dict[str, tuple[str, bool]]] = {}
    audience = ""

    def __init__(self, ws: Any, chat: Chat) -> None:
        s = chat.ctx.settings
        self.ws, self.chat, self.settings = ws, chat, s
        self.conversations = chat.conversations
        self.max_bytes = max(4096, s.max_message_length * 6 + 1024)
        # A frame far beyond the limit is not even buffered: the socket closes (1009).
        ws.max_message_size = 16 * self.max_bytes
        self.messages = RateLimiter(s.rate_limit, s.rate_window)
        self.frame_limit = RateLimiter(5 * s.rate_limit, s.rate_window)
        self.subscriptions: list[Subscription] = []
        self.id_shop: int | None = None
        self.outbox = Outbox(ws, chat.conversations, self.audience,
                             lambda: self.conversations.operator_name(self.id_shop or 0))
        self.greeted = False

    def send(self, event: dict[str, Any]) -> None:
        self.outbox.send(event)

    def subscribe(self, channel: str, callback: Any) -> Subscription:
        subscription = self.chat.broker.subscribe(channel, callback)
        self.subscriptions.append(subscription)
        return subscription

    def run(self) -> None:
        """Serve the socket until it closes."""
        try:
            self._loop()
        except ConnectionClosed:
            pass
        finally:
            self.outbox.closed = True
            for subscription in self.subscriptions:
                subscription.cancel()
            self.closing()

    def _loop(self) -> None:
        beat = self.settings.heartbeat_seconds
        last_heard = last_beat = time.monotonic()
        while not self.outbox.closed:
            text = self.ws.receive(timeout=beat)
            now = time.monotonic()
            if now - last_beat >= beat:
                last_beat = now
                self.beat()
            if text is None:
                if now - last_heard >= 2 * beat - 0.01:
                    self.ws.close(reason=1001, message="no answer to two heartbeats")
                    return
                self.send({"type": "ping"})
                continue
            last_heard = now
            self.handle(text)

    def handle(self, text: str | bytes) -> None:
        """Act on one frame; any refusal becomes an ``error`` event, the socket stays open."""
        frame = None
        try:
            self.frame_limit.check()
            frame = protocol.parse(text, self.frames, max_bytes=self.max_bytes)
            if frame.type == "ping":
                self.send({"type": "pong"})
            elif frame.type == "pong":
                pass
            elif frame.type == "hello":
                if self.greeted:
                    raise ProtocolError("already_greeted", "hello was already received")
                self.on_hello(frame)
                self.greeted = True
            elif not self.greeted:
                raise ProtocolError("hello_first", "send hello first")
            else:
                getattr(self, "on_" + frame.type)(frame)
        except (ProtocolError, ChatError) as exc:
            event = exc.event()
            if frame is not None:
                event["ref"] = frame.get("client_id") or frame.type
            self.send(event)

    def check_message(self, frame: protocol.Frame) -> tuple[str, str]:
        """The message's client id and cleaned body, counted by the rate limit.

        :raises ProtocolError: bad client id, empty or too long body, rate limited.
        """
        client_id = protocol.check_client_id(frame.get("client_id"))
        body = protocol.clean_body(frame.get("body"), self.settings.max_message_length)
        self.messages.check()
        return client_id, body

    def limits(self) -> dict[str, Any]:
        s = self.settings
        return {"max_message_length": s.max_message_length, "rate_limit": s.rate_limit,
                "rate_window": s.rate_window, "heartbeat_seconds": s.heartbeat_seconds}

    def beat(self) -> None:
        """Called once per heartbeat period."""

    def closing(self) -> None:
        """Called once the socket is closed."""


class VisitorSocket(_Socket):
    """A storefront visitor's socket: only ever its own conversation."""

    frames = protocol.VISITOR_FRAMES
    audience = "visitor"

    def __init__(self, ws: Any, chat: Chat, visitor: Visitor, user_agent: str | None,
                 accept_language: str | None) -> None:
        super().__init__(ws, chat)
        self.visitor = visitor
        self.id_shop = visitor.id_shop
        self.user_agent, self.accept_language = user_agent, accept_language
        self.outbox = _ArchivingOutbox(self, ws, chat.conversations, self.audience,
                                       self.outbox.operator_name)
        self.token = ""
        self.page_url: str | None = None
        self.id_conversation: int | None = None
        self._conversation_sub: Subscription | None = None
        self.last_state: str | None = None

    def on_hello(self, frame: protocol.Frame) -> None:
        page_url = frame.get("page_url")
        self.page_url = page_url[:protocol.MAX_PAGE_URL] if page_url else None
        self.subscribe(visitors_channel(self.visitor.id_shop), self.on_availability)
        token, conversation = frame.get("token"), None
        if token:
            try:
                conversation = self.conversations.find_for_visitor(self.visitor, token)
            except ChatError as exc:
                self.send(exc.event())
                token = None
            if conversation is not None and conversation.status == ARCHIVED:
                conversation, token = None, None
        self.token = token or self.conversations.issue_token()
        if conversation is not None:
            self.follow(conversation.id_conversation, frame.get("last_seq", 0), welcome=True)
            return
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
        try:
            try:
                posted = self.conversations.post_customer(self.visitor, self.token, **post)
            except ConversationArchived:
                self.unfollow()
                self.token = self.conversations.issue_token()
                posted = self.conversations.post_customer(self.visitor, self.token, **post)
        except ChatError as exc:
            if exc.code == "unavailable":
                self.last_state = exc.extra["state"]
                self.send({"type": "state", "state": self.last_state})
            raise
        ack: dict[str, Any] = {"type": "ack", "client_id": client_id, "seq": posted.event.seq,
                               "at": protocol.timestamp(posted.event.date_add),
                               "duplicate": posted.duplicate}
        if self.id_conversation is None:
            ack.update(token=self.token, conversation=visitor_view(posted.conversation))
            with self.outbox.lock:
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

    def on_availability(self, event: dict[str, Any]) -> None:
        """The shop's availability changed: tell a visitor who has no conversation."""
        if self.id_conversation is None and event.get("state") != self.last_state:
            self.last_state = event.get("state")
            self.send({"type": "state", "state": self.last_state})


class _ArchivingOutbox(Outbox):
    """The visitor's outbox: an archived conversation is let go, with a fresh token."""

    def __init__(self, socket: VisitorSocket, *args: Any) -> None:
        super().__init__(*args)
        self.socket = socket

    def deliver(self, event: dict[str, Any], *, follow_new: bool = False) -> None:
        if event.get("type") == "state" and "conversation" in event:
            socket = self.socket
            socket.unfollow()
            socket.token = socket.conversations.issue_token()
            socket.last_state = event.get("state")
            self.send({**event, "token": socket.token})
            return
        super().deliver(event, follow_new=follow_new)


class OperatorSocket(_Socket):
    """An employee's back-office socket: every conversation of one shop."""

    frames = protocol.OPERATOR_FRAMES
    audience = "operator"

    def __init__(self, ws: Any, chat: Chat, employee: Employee, default_shop: int) -> None:
        super().__init__(ws, chat)
        self.employee = employee
        self.default_shop = default_shop
        self.opened = False

    def on_hello(self, frame: protocol.Frame) -> None:
        id_shop = frame.get("id_shop", self.default_shop)
        with self.chat.state.engine.connect() as conn:
            if shops.get_shop(conn, self.chat.ctx.tables, id_shop) is None:
                raise ChatError("not_found", f"no shop {id_shop}")
        self.id_shop = id_shop
        operators = self.chat.operators
        self.subscribe(shop_channel(id_shop), self.on_shop_event)
        operator = operators.socket_opened(self.employee.id_employee, id_shop)
        self.opened = True
        last_seqs = frame.get("last_seqs", {})
        with self.outbox.lock:
            items = []
            for conversation in self.conversations.active(id_shop):
                after = min(last_seqs.get(conversation.id_conversation, 0), conversation.last_seq)
                events = self.conversations.events_after(conversation.id_conversation, after)
                self.outbox.seqs[conversation.id_conversation] = (
                    events[-1].seq if events else after)
                items.append({**summary(conversation), "events": self.outbox.render(events)})
            with self.chat.state.engine.connect() as conn:
                state = operators.availability(conn, id_shop)
                present = operators_present(self.chat, conn, id_shop)
            self.send({"type": "recap", "id_employee": self.employee.id_employee,
                       "id_shop": id_shop, "online": operator.online,
                       "operator_name": self.conversations.operator_name(id_shop),
                       "operators_online": present, "state": state,
                       "conversations": items, "limits": self.limits()})

    def on_shop_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "status":
            if event.get("id_employee") == self.employee.id_employee:
                self.send({"type": "status", "online": event.get("online")})
            return
        self.outbox.deliver(event, follow_new=True)

    def on_status(self, frame: protocol.Frame) -> None:
        changed = self.chat.operators.set_status(self.employee.id_employee, self._shop(),
                                                 frame.get("online"))
        if not changed:  # already so: answer this socket alone
            self.send({"type": "status", "online": frame.get("online")})

    def on_message(self, frame: protocol.Frame) -> None:
        client_id, body = self.check_message(frame)
        posted = self.conversations.post_operator(
            self.employee.id_employee, self._shop(), frame.get("id_conversation"),
            client_id=client_id, body=body)
        self.send({"type": "ack", "client_id": client_id, "seq": posted.event.seq,
                   "id_conversation": posted.event.id_conversation,
                   "at": protocol.timestamp(posted.event.date_add),
                   "duplicate": posted.duplicate})

    def on_end(self, frame: protocol.Frame) -> None:
        self.conversations.end(frame.get("id_conversation"), self._shop(), by="operator",
                               id_employee=self.employee.id_employee)

    def on_reopen(self, frame: protocol.Frame) -> None:
        self.conversations.reopen(frame.get("id_conversation"), self._shop(),
                                  id_employee=self.employee.id_employee)

    def on_typing(self, frame: protocol.Frame) -> None:
        self._check_shop(frame.get("id_conversation"))
        self.conversations.typing(frame.get("id_conversation"), self._shop(),
                                  author="operator", on=frame.get("on"))

    def on_seen(self, frame: protocol.Frame) -> None:
        self.conversations.seen(frame.get("id_conversation"), self._shop(), by="operator",
                                seq=frame.get("seq"))

    def _shop(self) -> int:
        assert self.id_shop is not None
        return self.id_shop

    def _check_shop(self, id_conversation: int) -> None:
        conversation = self.conversations.get(id_conversation)
        if conversation is None or conversation.id_shop != self.id_shop:
            raise ChatError("not_found", f"no conversation {id_conversation} in this shop",
                            id_conversation=id_conversation)

    def beat(self) -> None:
        if self.opened:
            self.chat.operators.heartbeat(self.employee.id_employee, self._shop())

    def closing(self) -> None:
        if self.opened:
            self.chat.operators.socket_closed(self.employee.id_employee, self._shop())


def operators_present(chat: Chat, conn: Any, id_shop: int) -> list[int]:
    from .repositories import operators as operator_repo

    return operator_repo.present_ids(conn, chat.ctx.tables, id_shop, chat.operators.presence())


def register(app: Flask, bp: Blueprint, state: ChatState) -> None:
    """Add the two socket routes (and their handshake checks) to the module's blueprint.

    Call before the blueprint is registered on ``app``.
    """
    sock = Sock()
    endpoints = {f"{bp.name}.visitor_socket", f"{bp.name}.operator_socket"}

    @bp.before_request
    def check_handshake() -> Response | None:
        """Refuse before upgrading: 403 for a foreign Origin, 401 without an employee."""
        if request.endpoint not in endpoints:
            return None
        chat = chat_for(state)
        if not origin_allowed(request.headers.get("Origin"), request.host, chat.shop_hosts(),
                              state.settings.allowed_origins):
            return Response("this origin may not open chat sockets\n", 403,
                            mimetype="text/plain")
        if request.endpoint.endswith(".operator_socket") and \
                state.identify_employee(request) is None:
            return Response("sign in to the back office first\n", 401, mimetype="text/plain")
        return None

    @sock.route(VISITOR_PATH, bp=bp)
    def visitor_socket(ws: Any) -> None:
        VisitorSocket(ws, chat_for(state), state.identify_visitor(request),
                      request.headers.get("User-Agent"),
                      request.headers.get("Accept-Language")).run()

    @sock.route(OPERATOR_PATH, bp=bp)
    def operator_socket(ws: Any) -> None:
        chat = chat_for(state)
        employee = state.identify_employee(request)
        if employee is None:  # the cookie expired between the check and the upgrade
            ws.close(reason=1008, message="sign in to the back office first")
            return
        OperatorSocket(ws, chat, employee, state.identify_visitor(request).id_shop).run()
