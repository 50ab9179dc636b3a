"""What one socket is sent: events one at a time, each conversation's log in order, once.

The broker delivers at most once and in no promised order across channels; the database
is the log. An :class:`Outbox` remembers the last sequence number it sent per
conversation, drops a late or repeated event, and fills a gap from the log before it
sends the event that revealed it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from simple_websocket import ConnectionClosed

from . import protocol
from .conversations import Conversations
from .repositories.conversations import Event


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

    def send(self, event: dict[str, Any]) -> None:
        """Send one event as is; a closed socket marks the outbox closed."""
        with self.lock:
            if self.closed:
                return
            try:
                self.ws.send(protocol.dumps(event))
            except (ConnectionClosed, OSError):
                self.closed = True

    def render(self, events: list[Event]) -> list[dict[str, Any]]:
        """Logged events as this socket's audience sees them."""
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
