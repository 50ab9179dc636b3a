"""The reference: a bare asyncio ``websockets`` relay with the chat's fan-out and nothing else.

No database, no identity, no log: a visitor's frame is forwarded as is to every operator
socket (as the chat's shop channel does), and an operator's frame to the visitor whose
``id_conversation`` it names. ``bench/load.py`` runs it as a subprocess::

    python bench/relay.py --port 8765

Paths: ``/visitor/<id_conversation>`` and ``/operator``. It stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve


class Relay:
    """Who is connected, and where each frame goes."""

    def __init__(self) -> None:
        self.operators: set[ServerConnection] = set()
        self.visitors: dict[int, ServerConnection] = {}

    async def handle(self, ws: ServerConnection) -> None:
        path = ws.request.path
        if path == "/operator":
            await self._operator(ws)
        elif path.startswith("/visitor/") and path[len("/visitor/"):].isdigit():
            await self._visitor(ws, int(path[len("/visitor/"):]))
        else:
            await ws.close(4404, "unknown path")

    async def _operator(self, ws: ServerConnection) -> None:
        self.operators.add(ws)
        try:
            async for text in ws:
                try:
                    target = self.visitors.get(int(json.loads(text)["id_conversation"]))
                except (ValueError, KeyError, TypeError):
                    continue
                if target is not None:
                    broadcast([target], text)
        finally:
            self.operators.discard(ws)

    async def _visitor(self, ws: ServerConnection, id_conversation: int) -> None:
        self.visitors[id_conversation] = ws
        try:
            async for text in ws:
                broadcast(self.operators, text)
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
        try:
            await stop
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
