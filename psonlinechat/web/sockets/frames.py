"""The frame loop both chat sockets share: heartbeats, size and rate limits, errors.

:class:`ChatSocket` reads frames, parses them with :mod:`protocol` against the socket's
``frames``, insists on ``hello`` first, and calls ``on_<type>``; a refusal (the wire's
:class:`ProtocolError`, or the chat's :class:`~psonlinechat.errors.ChatError`, translated
by :func:`error_frame`) is sent back as an ``error`` event and the socket stays open.
Subclasses: :mod:`visitor_socket`, :mod:`operator_socket`.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from simple_websocket import ConnectionClosed

from psonlinechat.chat import protocol
from psonlinechat.chat.broker import Callback, Subscription
from psonlinechat.chat.engine import Chat
from psonlinechat.web.sockets.outbox import Outbox
from psonlinechat.chat.protocol import ProtocolError
from psonlinechat.errors import ChatError


def error_frame(refusal: ChatError | ProtocolError) -> dict[str, Any]:
    """The protocol's ``error`` frame answering a refusal: the chat's rules (a
    :class:`ChatError`, whose code and message the client sees as they are) or the wire's."""
    if isinstance(refusal, ProtocolError):
        return refusal.event()
    return protocol.error(refusal.code, refusal.message, **refusal.extra)


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


class ChatSocket:
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

    def subscribe(self, channel: str, callback: Callback) -> Subscription:
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
            self.outbox.close()
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
            event = error_frame(exc)
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
