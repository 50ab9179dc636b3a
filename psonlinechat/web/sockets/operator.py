"""The employee's back-office socket (``<prefix>/ws/operator``): every conversation of a shop.

On ``hello`` the operator gets a ``recap`` (the shop's active conversations with what it
missed of each, who is present, the availability); then it answers, ends, reopens and
switches itself online or offline. Presence counts its open sockets and heartbeats.
"""

from __future__ import annotations

from typing import Any

from psonlinechat.chat import protocol
from psonlinechat.chat.broker import shop_channel
from psonlinechat.chat.engine import Chat
from psonlinechat.chat.protocol import summary
from psonlinechat.errors import ChatError
from psonlinechat.shop.identity import Employee
from psonlinechat.store import shops
from psonlinechat.web.outage import Outage
from psonlinechat.web.sockets.frames import ChatSocket


class OperatorSocket(ChatSocket):
    """An employee's back-office socket: every conversation of one shop."""

    frames = protocol.OPERATOR_FRAMES
    audience = "operator"

    def __init__(self, ws: Any, chat: Chat, employee: Employee, default_shop: int, *,
                 outage: Outage | None = None) -> None:
        super().__init__(ws, chat, outage=outage)
        self.employee = employee
        self.default_shop = default_shop
        self.opened = False

    def on_hello(self, frame: protocol.Frame) -> None:
        id_shop = frame.get("id_shop", self.default_shop)
        if not self.chat.ctx.read(lambda conn: self._serves(conn, id_shop)):
            # One answer for both, so that an employee learns nothing of other shops.
            raise ChatError("not_found", f"no shop {id_shop}")
        self.id_shop = id_shop
        last_seqs = frame.get("last_seqs", {})
        # What the console has is never sent again, and the broker's events wait until the
        # recap is out, however long the write that registers the socket waits for a lock.
        with self.outbox.lock:
            self.outbox.seqs.update(last_seqs)
        self.outbox.hold()
        try:
            self.subscribe(shop_channel(id_shop), self.on_shop_event)
            operator = self.chat.operators.socket_opened(self.employee.id_employee, id_shop)
            self.opened = True
            items = self._replay(id_shop, last_seqs)
            state, present = self.chat.ctx.read(
                lambda conn: self.chat.operators.state_and_present(conn, id_shop))
            self.send({"type": "recap", "id_employee": self.employee.id_employee,
                       "id_shop": id_shop, "online": operator.online,
                       "operator_name": self.conversations.operator_name(id_shop),
                       "operators_online": present, "state": state,
                       "conversations": items, "limits": self.limits()})
        finally:
            self.outbox.release()

    def _serves(self, conn: Any, id_shop: int) -> bool:
        """Whether ``id_shop`` exists and the employee may serve it."""
        t = self.chat.ctx.tables
        return shops.get_shop(conn, t, id_shop) is not None and shops.employee_serves_shop(
            conn, t, self.employee.id_employee, self.employee.id_profile, id_shop)

    def _replay(self, id_shop: int, last_seqs: dict[int, int]) -> list[dict[str, Any]]:
        """The shop's active conversations, each with its events after ``last_seqs``
        (the outbox then follows each from there). Call while the outbox holds the
        broker's events."""
        items = []
        for conversation in self.conversations.active(id_shop):
            after = min(last_seqs.get(conversation.id_conversation, 0), conversation.last_seq)
            events = self.conversations.events_after(conversation.id_conversation, after)
            with self.outbox.lock:
                self.outbox.seqs[conversation.id_conversation] = (
                    events[-1].seq if events else after)
            items.append({**summary(conversation), "events": self.outbox.render(events)})
        return items

    def on_shop_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "status":
            if event.get("id_employee") == self.employee.id_employee:
                self.outbox.deliver({"type": "status", "online": event.get("online")})
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
        """Once per heartbeat: refresh presence, and send what the broker may have lost
        (events of the shop's active conversations, and conversations opened meanwhile)."""
        if self.opened:
            self.chat.operators.heartbeat(self.employee.id_employee, self._shop())
            for conversation in self.conversations.active(self._shop()):
                self.outbox.catch_up(conversation, follow_new=True)

    def closing(self) -> None:
        if self.opened:
            self.chat.operators.socket_closed(self.employee.id_employee, self._shop())
