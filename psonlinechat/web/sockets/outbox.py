"""What one socket is sent: events one at a time, each conversation's log in order, once.

The broker delivers at most once and in no promised order across channels; the database
is the log. An :class:`Outbox` remembers the last sequence number it sent per
conversation, drops a late or repeated event, and fills a gap from the log before it
sends the event that revealed it.

Sending never blocks the caller (often the broker's one listener thread, or another
socket's handler): events wait in the outbox's queue for its writer thread. A client that
stops reading lets that queue grow; past :data:`MAX_QUEUED_BYTES` the socket is cut (and a
line logged), so that one stuck client holds neither memory nor the delivery to every
other socket. A client that comes back replays what it missed from the log.

The answers to the socket's own frames never count as "not reading": its handler reads no
further frame while more than :data:`OWN_QUEUE_BYTES` wait (:meth:`Outbox.wait_sent`), so
a client that sends fast is slowed down to the pace it reads at, never cut.

While a socket makes its first snapshot (the operator's recap), :meth:`Outbox.hold` keeps
the broker's events aside; :meth:`Outbox.release` then delivers them against the sequence
numbers the snapshot set, so that none is sent twice, whatever the timing.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from simple_websocket import ConnectionClosed

from psonlinechat.chat import protocol
from psonlinechat.chat.conversations import Conversations
from psonlinechat.chat.publisher import render
from psonlinechat.store.conversations import Conversation, Event

log = logging.getLogger(__name__)

#: Text an outbox holds for a client that does not read before the socket is cut.
MAX_QUEUED_BYTES = 1 << 20
#: Text waiting to be sent past which the socket's handler reads no further frame.
OWN_QUEUE_BYTES = 64 << 10


class Outbox:
    """Sends events to one socket: one at a time, and each conversation's logged events
    in sequence order, exactly once (late or repeated ones are dropped, a gap is filled
    from the log first)."""

    def __init__(self, ws: Any, conversations: Conversations, audience: str,
                 operator_name: Callable[[], str]) -> None:
        self.ws = ws
        self.conversations = conversations
        self.audience = audience
        self.operator_name = operator_name
        self.lock = threading.RLock()
        self.seqs: dict[int, int] = {}
        self.closed = False
        self._queue: deque[str] = deque()
        self._queued_bytes = 0
        self._ready = threading.Condition(threading.Lock())
        self._writer: threading.Thread | None = None
        self._progress = time.monotonic()  # when the writer last sent, or found nothing to
        self._held: list[tuple[dict[str, Any], bool]] | None = None

    def send(self, event: dict[str, Any]) -> None:
        """Queue one event as is for the writer thread; never blocks on the socket. Past
        :data:`MAX_QUEUED_BYTES` waiting, the socket is cut and the outbox closed."""
        text = protocol.dumps(event)
        with self.lock, self._ready:
            if self.closed:
                return
            if self._queued_bytes + len(text) > MAX_QUEUED_BYTES:
                self._cut(f"{self._queued_bytes} bytes unread")
                return
            if not self._queue:
                self._progress = time.monotonic()
            self._queue.append(text)
            self._queued_bytes += len(text)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write, daemon=True,
                                                name="psonlinechat-outbox")
                self._writer.start()
            self._ready.notify()

    def _write(self) -> None:
        """The writer thread: send queued texts in order until the outbox closes."""
        while True:
            with self._ready:
                while not self._queue and not self.closed:
                    self._ready.wait()
                if self.closed:
                    return
                text = self._queue[0]
            try:
                self.ws.send(text)
            except (ConnectionClosed, OSError):
                self.close()
                return
            with self._ready:
                if self._queue and self._queue[0] is text:
                    self._queue.popleft()
                    self._queued_bytes -= len(text)
                self._progress = time.monotonic()
                self._ready.notify_all()  # a handler waiting in wait_sent

    def wait_sent(self, limit: int = OWN_QUEUE_BYTES, stall: float = 50.0) -> bool:
        """Wait until at most ``limit`` bytes wait to be sent (the socket's own handler,
        before it reads the next frame; holding no lock).

        :param stall: seconds without one send completing after which the client counts
            as not reading: the socket is cut.
        :returns: ``False`` when the outbox is closed or was cut.
        """
        with self._ready:
            while self._queued_bytes > limit and not self.closed:
                if time.monotonic() - self._progress > stall:
                    self._cut(f"nothing read for {stall:g} s")
                    break
                self._ready.wait(min(1.0, stall))
            return not self.closed

    def flush(self, timeout: float) -> None:
        """Wait (``timeout`` seconds at most) until everything queued is sent."""
        deadline = time.monotonic() + timeout
        with self._ready:
            while self._queue and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._ready.wait(left)

    def _cut(self, why: str) -> None:
        """Close the outbox and shut the connection down under a writer stuck in send.
        Call holding ``_ready``."""
        log.warning("cut a %s socket whose client does not read (%s); it replays what it "
                    "missed when it reconnects", self.audience or "chat", why)
        self.closed = True
        self._ready.notify_all()
        with contextlib.suppress(AttributeError, OSError):  # already gone
            self.ws.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop sending: what is still queued is dropped (the log keeps it). Waits (a
        second at most) for a send in progress, so that the closing frame that follows
        is not interleaved with it."""
        with self._ready:
            self.closed = True
            self._queue.clear()
            self._queued_bytes = 0
            self._ready.notify_all()
        writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=1)

    def render(self, events: list[Event]) -> list[dict[str, Any]]:
        """Logged events as this socket's audience sees them (:func:`publisher.render`,
        as the live ones)."""
        return render(events, audience=self.audience, operator_name=self.operator_name)

    def hold(self) -> None:
        """Keep the broker's events aside (:meth:`deliver`) until :meth:`release`."""
        with self.lock:
            if self._held is None:
                self._held = []

    def release(self) -> None:
        """Deliver the events kept aside since :meth:`hold`, in order, against the sequence
        numbers set meanwhile; later events wait for them (the lock is held throughout)."""
        with self.lock:
            held, self._held = self._held or [], None
            for event, follow_new in held:
                self.deliver(event, follow_new=follow_new)

    def deliver(self, event: dict[str, Any], *, follow_new: bool = False) -> None:
        """Send a broker event; a logged one only in order (see class docstring).

        :param follow_new: accept conversations this socket has not seen yet (operators).
        """
        with self.lock:
            if self._held is not None:
                self._held.append((event, follow_new))
                return
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

    def catch_up(self, conversation: Conversation, *, follow_new: bool = False) -> None:
        """Send the logged events of ``conversation`` (as just read) that this socket was
        not sent: the broker lost them, and no later event revealed the gap.

        :param follow_new: a conversation this socket does not follow yet is sent whole,
            after its summary (operators); else it is left alone.
        """
        id_conversation = conversation.id_conversation
        with self.lock:
            last = self.seqs.get(id_conversation)
            if last is None:
                if not follow_new:
                    return
                self.send({"type": "conversation",
                           "conversation": protocol.summary(conversation)})
                last = self.seqs[id_conversation] = 0
            if conversation.last_seq <= last:
                return
            events = self.conversations.events_after(id_conversation, last)
            for event in self.render(events):
                self.send(event)
            if events:
                self.seqs[id_conversation] = events[-1].seq
