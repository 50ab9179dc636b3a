"""The reference: a bare asyncio ``websockets`` relay with the chat's fan-out and nothing else.

No database, no identity, no log: a visitor's frame is forwarded as is to the operator
sockets of its group (as the chat's shop channel does for a shop), and an operator's
frame to the visitor whose ``id_conversation`` it names. ``bench/load.py`` runs it as a subprocess::

    python bench/relay.py --port 8765

Paths: ``/visitor/<group>/<id_conversation>`` and ``/operator/<group>``. It stops on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve


class Relay:
    """Who is connected, and where each frame goes."""

    def __init__(self) -> None:
        self.operators: dict[int, set[ServerConnection]] = {}
        self.visitors: dict[int, ServerConnection] = {}

    async def handle(self, ws: ServerConnection) -> None:
        parts = ws.request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "operator" and parts[1].isdigit():
            await self._operator(ws, int(parts[1]))
        elif len(parts) == 3 and parts[0] == "visitor" and parts[1].isdigit() \
                and parts[2].isdigit():
            await self._visitor(ws, int(parts[1]), int(parts[2]))
        else:
            await ws.close(4404, "unknown path")

    async def _operator(self, ws: ServerConnection, group: int) -> None:
        self.operators.setdefault(group, set()).add(ws)
        try:
            async for text in ws:
                try:
                    target = self.visitors.get(int(json.loads(text)["id_conversation"]))
                except (ValueError, KeyError, TypeError):
                    continue
                if target is not None:
                    broadcast([target], text)
        finally:
            self.operators[group].discard(ws)

    async def _visitor(self, ws: ServerConnection, group: int, id_conversation: int) -> None:
        self.visitors[id_conversation] = ws
        try:
            async for text in ws:
                broadcast(self.operators.get(group, ()), text)
        finally:
            if self.visitors.get(id_conversation) is ws:
                del self.visitors[id_conversation]


async def main(host: str, port: int) -> None:
    relay = Relay()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with serve(relay.handle, host, port, compression=None, ping_interval=None,
                     max_queue=None, backlog=2048):
        print(f"relay listening on {host}:{port}", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
