"""A chat socket that floods the server while it keeps reading: :class:`ReadingClient`.

A plain TCP socket speaking WebSocket through wsproto, so that the test decides exactly
how fast it sends (every frame written at once, back to back, from a thread) and how fast
it reads (a small receive buffer, 4 KiB every few milliseconds): a client that reads, only
slower than the server can answer a burst.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage


class ReadingClient:
    """A socket to ``ws://host:port<path>``, as a browser on ``origin`` opens it.

    ``received`` holds the events read so far; ``close_code`` the code of the server's
    close frame, ``None`` while none came (a connection dropped without one keeps it so).

    :param cookie: the ``Cookie`` header.
    :param pause: seconds between two reads of 4 KiB.
    """

    def __init__(self, host: str, port: int, path: str, *, origin: str, cookie: str,
                 pause: float = 0.005) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, port))
        self.sock.settimeout(10)
        self.pause = pause
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(
            host=f"{host}:{port}", target=path,
            extra_headers=[(b"origin", origin.encode()), (b"cookie", cookie.encode())])))
        while not any(isinstance(e, AcceptConnection) for e in self._events()):
            pass
        self.received: list[dict] = []
        self.close_code: int | None = None
        self._partial = ""

    def _events(self) -> list:
        self.ws.receive_data(self.sock.recv(4096) or None)
        return list(self.ws.events())

    def frames(self, text: str, count: int) -> bytes:
        """``count`` text frames of ``text``, as the wire carries them."""
        return b"".join(self.ws.send(TextMessage(text)) for _ in range(count))

    def flood_and_read(self, first: str, text: str, count: int, until: int) -> None:
        """Send ``first`` then ``count`` × ``text`` back to back from another thread, and
        read meanwhile until the server closes or drops the connection, or ``until``
        events came.

        :raises TimeoutError: nothing arrives for 10 seconds.
        """
        sender = threading.Thread(target=self._send_quietly,
                                  args=(self.frames(first, 1) + self.frames(text, count),))
        sender.start()
        try:
            while len(self.received) < until and self._read():
                time.sleep(self.pause)
        finally:
            sender.join()

    def _read(self) -> bool:
        """Read once; whether the connection is still open."""
        try:
            events = self._events()
        except ConnectionResetError:
            return False
        for event in events:
            if isinstance(event, TextMessage):
                self._partial += event.data
                if event.message_finished:
                    self.received.append(json.loads(self._partial))
                    self._partial = ""
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                return False
        return self.ws.state.name != "CLOSED"

    def _send_quietly(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # closed by the server meanwhile
            self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()
