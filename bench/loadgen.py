"""The load generator: N visitor sockets and a few operator sockets, one message a second.

Run by ``bench/load.py`` in a process of its own (so that it does not share the server's
interpreter), it reads a JSON plan on stdin and prints a JSON result on stdout::

    {"mode": "chat" | "relay", "duration": 20, "rate": 1.0,
     "visitors": [{"url": ..., "headers": {...}}, ...],
     "operators": [{"url": ..., "headers": {...}}, ...]}

Each visitor sends ``rate`` messages a second, starting at an offset spread over the first
period so that the load is even; the operator that answers its conversation replies to
each at once. A message body carries its send time (``time.perf_counter()``, same
process), so each delivery gives a latency: visitor → operator, and operator → visitor.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

CONNECT_CONCURRENCY = 50
DRAIN_SECONDS = 3.0


def _ms(samples: list[float], fraction: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return round(ordered[index] * 1000, 3)


class Run:
    """One load run and what it saw."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.mode = plan["mode"]
        self.duration = float(plan["duration"])
        self.period = 1.0 / float(plan.get("rate", 1.0))
        self.to_operator: list[float] = []
        self.to_visitor: list[float] = []
        self.sent = {"visitor": 0, "operator": 0}
        self.errors: list[str] = []
        self.refused = 0
        self.operator_sockets: list[ClientConnection] = []
        #: Latencies count once every socket is open (not the conversations' openings).
        self.measuring = False
        self.sending = True
        #: id_conversation → index of the operator socket that answers it.
        self.operator_of: dict[int, int] = {}

    # --- connecting ----------------------------------------------------------------------

    async def _connect(self, target: dict[str, Any]) -> ClientConnection:
        # "connect_to": the address to dial when the URL names a host (a shop) instead.
        extra = {"host": target["connect_to"]} if target.get("connect_to") else {}
        return await connect(target["url"], additional_headers=target.get("headers") or {},
                             origin=target.get("origin"), compression=None, proxy=None, **extra,
                             open_timeout=30, ping_interval=None, max_queue=None,
                             close_timeout=2)

    async def _open_operator(self, index: int, target: dict[str, Any]) -> ClientConnection:
        ws = await self._connect(target)
        if self.mode == "chat":
            hello = {"type": "hello"}
            if target.get("id_shop"):
                hello["id_shop"] = target["id_shop"]
            await ws.send(json.dumps(hello))
            await self._expect(ws, "recap")
            await ws.send(json.dumps({"type": "status", "online": True}))
            await self._expect(ws, "status")
        return ws

    async def _expect(self, ws: ClientConnection, kind: str) -> dict[str, Any]:
        """The next event of type ``kind`` (others are skipped).

        :raises RuntimeError: an ``error`` event came first.
        """
        async for text in ws:
            event = json.loads(text)
            if event.get("type") == kind:
                return event
            if event.get("type") == "error":
                raise RuntimeError(f"waiting for {kind}: {event}")
        raise RuntimeError(f"socket closed while waiting for {kind}")

    async def _open_visitor(
        self, index: int, target: dict[str, Any]
    ) -> tuple[ClientConnection, int]:
        """Connect; in chat mode also say hello and open the conversation with a first message."""
        ws = await self._connect(target)
        if self.mode == "relay":
            return ws, int(target["id_conversation"])
        await ws.send(json.dumps({"type": "hello"}))
        welcome = await self._expect(ws, "welcome")
        if welcome.get("state") != "online":
            raise RuntimeError(f"the shop is {welcome.get('state')} for visitor {index}")
        await ws.send(json.dumps({"type": "message", "client_id": f"open-{index}",
                                  "body": f"hello {time.perf_counter()!r}"}))
        ack = await self._expect(ws, "ack")
        return ws, int(ack["conversation"]["id_conversation"])

    # --- traffic -------------------------------------------------------------------------

    async def _operator_loop(self, index: int, ws: ClientConnection) -> None:
        counter = 0
        try:
            async for text in ws:
                event = json.loads(text)
                if event.get("type") != "message" or event.get("author") != "customer":
                    continue
                conv = int(event["id_conversation"])
                if not self.measuring or self.operator_of.get(conv) != index:
                    continue
                sent_at = float(event["body"].rsplit(" ", 1)[1])
                self.to_operator.append(time.perf_counter() - sent_at)
                if not self.sending:
                    continue
                counter += 1
                self.sent["operator"] += 1
                await ws.send(json.dumps({
                    "type": "message", "id_conversation": conv, "author": "operator",
                    "client_id": f"o{index}-{counter}",
                    "body": f"answer {conv} {time.perf_counter()!r}"}))
        except WebSocketException as exc:
            if self.sending:
                self.errors.append(f"operator {index}: {exc!r}")

    async def _visitor_receive(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                event = json.loads(text)
                if event.get("type") == "message" and event.get("author") == "operator":
                    sent_at = float(event["body"].rsplit(" ", 1)[1])
                    self.to_visitor.append(time.perf_counter() - sent_at)
        except WebSocketException as exc:
            if self.sending:
                self.errors.append(f"visitor: {exc!r}")

    async def _visitor_send(self, ws: ClientConnection, conv: int, offset: float,
                            start: float) -> None:
        await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
        counter = 0
        while True:
            due = start + offset + counter * self.period
            if due >= start + self.duration:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            counter += 1
            try:
                await ws.send(json.dumps({
                    "type": "message", "id_conversation": conv, "author": "customer",
                    "client_id": f"v{conv}-{counter}",
                    "body": f"question {conv} {time.perf_counter()!r}"}))
            except WebSocketException as exc:
                self.errors.append(f"visitor {conv} send: {exc!r}")
                return
            self.sent["visitor"] += 1

    async def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        for index, target in enumerate(self.plan["operators"]):
            self.operator_sockets.append(await self._open_operator(index, target))
        # Operators read from now on, so that the openings do not pile up unread.
        tasks = [asyncio.create_task(self._operator_loop(i, ws))
                 for i, ws in enumerate(self.operator_sockets)]
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def open_one(index: int, target: dict[str, Any]):
            async with gate:
                try:
                    ws, conv = await self._open_visitor(index, target)
                    self.operator_of[conv] = int(target.get("operator", 0))
                    return ws, conv
                except InvalidStatus as exc:
                    self.refused += 1
                    self.errors.append(f"visitor {index}: HTTP {exc.response.status_code}")
                except (OSError, WebSocketException, RuntimeError, TimeoutError) as exc:
                    self.errors.append(f"visitor {index}: {exc!r}")
                return None

        targets = enumerate(self.plan["visitors"])
        opened = await asyncio.gather(*(open_one(i, t) for i, t in targets))
        visitors = [pair for pair in opened if pair is not None]
        connect_seconds = time.perf_counter() - started
        tasks += [asyncio.create_task(self._visitor_receive(ws)) for ws, _ in visitors]
        await asyncio.sleep(0.5)
        self.measuring = True
        start = time.perf_counter()
        count = max(1, len(visitors))
        senders = [asyncio.create_task(self._visitor_send(ws, conv, self.period * i / count, start))
                   for i, (ws, conv) in enumerate(visitors)]
        await asyncio.gather(*senders)
        send_seconds = time.perf_counter() - start
        await asyncio.sleep(DRAIN_SECONDS)
        self.sending = False
        for ws in self.operator_sockets + [ws for ws, _ in visitors]:
            await ws.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        delivered = len(self.to_operator) + len(self.to_visitor)
        return {
            "mode": self.mode,
            "visitors_wanted": len(self.plan["visitors"]),
            "visitors_open": len(visitors),
            "operators_open": len(self.operator_sockets),
            "refused": self.refused,
            "connect_seconds": round(connect_seconds, 2),
            "send_seconds": round(send_seconds, 2),
            "sent": self.sent,
            "delivered": {"to_operator": len(self.to_operator), "to_visitor": len(self.to_visitor)},
            "lost": self.sent["visitor"] + self.sent["operator"] - delivered,
            "messages_per_second": round(delivered / send_seconds, 1),
            "latency_ms": {
                "to_operator": {"p50": _ms(self.to_operator, 0.5),
                                "p99": _ms(self.to_operator, 0.99),
                                "max": _ms(self.to_operator, 1.0)},
                "to_visitor": {"p50": _ms(self.to_visitor, 0.5), "p99": _ms(self.to_visitor, 0.99),
                               "max": _ms(self.to_visitor, 1.0)},
                "all": {"p50": _ms(self.to_operator + self.to_visitor, 0.5),
                        "p99": _ms(self.to_operator + self.to_visitor, 0.99)},
            },
            "errors": self.errors[:20],
            "error_count": len(self.errors),
        }


def main() -> None:
    plan = json.load(sys.stdin)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = asyncio.run(Run(plan).run())
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
