"""The frame loop both chat sockets share: heartbeats, size and rate limits, errors.

:class:`ChatSocket` reads frames, parses them with :mod:`protocol` against the socket's
``frames``, insists on ``hello`` first, and calls ``on_<type>``; a refusal (the wire's
:class:`ProtocolError`, or the chat's :class:`~psonlinechat.errors.ChatError`, translated
by :func:`error_frame`) is sent back as an ``error`` event and the socket stays open.
Subclasses: :class:`~psonlinechat.web.sockets.visitor.VisitorSocket`,
:class:`~psonlinechat.web.sockets.operator.OperatorSocket`.

Limits: a frame may hold a message of ``max_message_length`` characters written entirely in
JSON escapes (:func:`frame_limit`). A client sending more than ``5 × rate_limit`` frames in
``rate_window`` seconds has each further one refused with ``rate_limited``; one that sends
as many refused frames again, without pause, is closed with :data:`CLOSE_FLOODING` and a
log line. The handler reads no frame while its answers wait unsent (see :mod:`outbox`), so
a fast client is slowed to its own reading pace. A database that stays out of reach closes
the socket with :data:`CLOSE_TRY_AGAIN` (the client reconnects and replays).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from simple_websocket import ConnectionClosed

from psonlinechat.chat import protocol
from psonlinechat.chat.broker import Callback, Subscription
from psonlinechat.chat.engine import Chat
from psonlinechat.chat.protocol import ProtocolError
from psonlinechat.errors import ChatError
from psonlinechat.store.rate_limits import MemoryRateLimit, RateLimit
from psonlinechat.web.outage import DATABASE_FAILURES, Outage
from psonlinechat.web.sockets.outbox import Outbox

log = logging.getLogger(__name__)

#: Bytes of JSON one character of a message takes at worst: a surrogate pair in escapes,
#: as ``"\ud83d\ude00"`` for one emoji.
JSON_BYTES_PER_CHARACTER = 12
#: Room in a frame for all but the message's body: type, ids, client id, hello's page URL.
ENVELOPE_BYTES = 4096
#: Close code for a client that keeps sending after ``rate_limited`` (policy violation).
CLOSE_FLOODING = 1008
#: Close code when the shop's database stays out of reach (try again later).
CLOSE_TRY_AGAIN = 1013


def frame_limit(max_message_length: int) -> int:
    """The largest frame accepted, in bytes: a message of ``max_message_length``
    characters all written in escapes, and its envelope."""
    return JSON_BYTES_PER_CHARACTER * max_message_length + ENVELOPE_BYTES


def error_frame(refusal: ChatError | ProtocolError) -> dict[str, Any]:
    """The protocol's ``error`` frame answering a refusal: the chat's rules (a
    :class:`ChatError`, whose code and message the client sees as they are) or the wire's."""
    if isinstance(refusal, ProtocolError):
        return refusal.event()
    return protocol.error(refusal.code, refusal.message, **refusal.extra)


def check_rate(limiter: RateLimit) -> None:
    """Count one event against ``limiter``.

    :raises ProtocolError: ``rate_limited`` (with ``retry_after`` seconds).
    """
    wait = limiter.hit()
    if wait:
        raise ProtocolError("rate_limited", f"at most {limiter.limit} per {limiter.window:g} "
                            "seconds; slow down", retry_after=round(wait, 3))


class ChatSocket:
    """The frame loop shared by both sockets: heartbeats, limits, errors."""

    frames: dict[str, dict[str, tuple[str, bool]]] = {}
    audience = ""

    def __init__(self, ws: Any, chat: Chat, *, outage: Outage | None = None) -> None:
        s = chat.ctx.settings
        self.ws, self.chat, self.settings = ws, chat, s
        self.outage = outage or Outage()
        self.conversations = chat.conversations
        self.max_bytes = frame_limit(s.max_message_length)
        # A frame far beyond the limit is not even buffered: the socket closes (1009).
        ws.max_message_size = 16 * self.max_bytes
        self.messages = MemoryRateLimit(s.rate_limit, s.rate_window)
        self.frame_limit = MemoryRateLimit(5 * s.rate_limit, s.rate_window)
        self.refused = 0  # frames refused by frame_limit since the last one it let through
        self.subscriptions: list[Subscription] = []
        self.id_shop: int | None = None
        self.outbox = self.make_outbox()
        self.greeted = False

    def make_outbox(self) -> Outbox:
        """The outbox this socket's events go through (a subclass may send through its own)."""
        return Outbox(self.ws, self.conversations, self.audience, self.shop_operator_name)

    def shop_operator_name(self) -> str:
        """The name the shop's operators go by, as the socket's events give it."""
        return self.conversations.operator_name(self.id_shop or 0)

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
        except DATABASE_FAILURES as exc:  # the chat's retries are over: come back later
            self.outage.failed(exc)
            self.close(CLOSE_TRY_AGAIN, "the shop's database is out of reach")
        except Exception:  # a bug: logged, and a close frame, never an error page in the stream
            log.exception("a %s socket failed; closing it (1011)", self.audience)
            self.close(1011, "internal error")
        finally:
            self.outbox.close()
            for subscription in self.subscriptions:
                subscription.cancel()
            try:
                self.closing()
            except DATABASE_FAILURES as exc:
                self.outage.failed(exc)

    def _loop(self) -> None:
        beat = self.settings.heartbeat_seconds
        last_heard = last_beat = time.monotonic()
        while self.outbox.wait_sent(stall=2 * beat):
            text = self.ws.receive(timeout=beat)
            now = time.monotonic()
            if now - last_beat >= beat:
                last_beat = now
                self.beat()
            if text is None:
                if now - last_heard >= 2 * beat - 0.01:
                    self.close(1001, "no answer to two heartbeats")
                    return
                self.send({"type": "ping"})
                continue
            last_heard = now
            self.handle(text)
            if self.refused > self.frame_limit.limit:
                log.warning("closed a %s socket that kept flooding: %d frames refused in a "
                            "row after rate_limited", self.audience, self.refused)
                self.close(CLOSE_FLOODING, "too many frames")
                return

    def close(self, code: int, message: str) -> None:
        """Send what is queued (a second at most), then a close frame with ``code``."""
        self.outbox.flush(timeout=1.0)
        self.outbox.close()
        with contextlib.suppress(ConnectionClosed, OSError):  # the client is gone already
            self.ws.close(reason=code, message=message)

    def handle(self, text: str | bytes) -> None:
        """Act on one frame; any refusal becomes an ``error`` event, the socket stays open."""
        frame = None
        try:
            self._count_frame()
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

    def _count_frame(self) -> None:
        """Count one frame against the frame limit (and the refused ones in a row).

        :raises ProtocolError: ``rate_limited``.
        """
        try:
            check_rate(self.frame_limit)
        except ProtocolError:
            self.refused += 1
            raise
        self.refused = 0

    def check_message(self, frame: protocol.Frame) -> tuple[str, str]:
        """The message's client id and cleaned body, counted by the rate limit.

        :raises ProtocolError: bad client id, empty or too long body, rate limited.
        """
        client_id = protocol.check_client_id(frame.get("client_id"))
        body = protocol.clean_body(frame.get("body"), self.settings.max_message_length)
        check_rate(self.messages)
        return client_id, body

    def limits(self) -> dict[str, Any]:
        s = self.settings
        return {"max_message_length": s.max_message_length, "rate_limit": s.rate_limit,
                "rate_window": s.rate_window, "heartbeat_seconds": s.heartbeat_seconds}

    def beat(self) -> None:
        """Called once per heartbeat period."""

    def closing(self) -> None:
        """Called once the socket is closed."""
