"""WSGI middleware for one worker's WebSockets: :class:`SocketLimit` and :class:`WholeFrameSocket`.

:class:`SocketLimit` caps the WebSockets one worker holds and answers ``503`` before the
upgrade past the cap; each admitted connection is wrapped in :class:`WholeFrameSocket`, so
that frames go out whole, and an error page after the upgrade becomes a close frame.
``psonlinechat serve`` puts the bridge behind it (see :mod:`psonlinechat.serve.worker`).
"""

from __future__ import annotations

import contextlib
import struct
import threading
from collections.abc import Callable, Iterable
from typing import Any

from psonlinechat.web.outage import RETRY_AFTER_SECONDS


class WholeFrameSocket:
    """The client connection as simple-websocket sees it: every ``send`` whole and alone.

    simple-websocket writes each frame with one ``socket.send`` and ignores a partial
    write; under gevent a send to a client that reads slowly is often partial, and the
    rest of the frame is silently dropped, corrupting the stream ("reserved bits must be
    0" on the client). Here ``send`` is ``sendall`` under a lock, so that a frame is never
    cut nor interleaved with another (the reader's pongs, the broker's deliveries).
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._send_lock = threading.Lock()
        #: Set by the first send, the handshake's ``101``: from then on only frames go out.
        self.upgraded = False

    def send(self, data: bytes, *flags: int) -> int:
        with self._send_lock:
            self._sock.sendall(data, *flags)
            self.upgraded = True
        return len(data)

    def close_frame(self, code: int, reason: str) -> None:
        """Send a WebSocket close frame (server frames are unmasked), ignoring a dead peer."""
        payload = struct.pack("!H", code) + reason.encode()[:120]
        with contextlib.suppress(OSError):
            self.send(bytes([0x88, len(payload)]) + payload)

    def sendall(self, data: bytes, *flags: int) -> None:
        self.send(data, *flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def no_error_page_after_upgrade(sock: WholeFrameSocket, start_response: Callable) -> Callable:
    """``start_response`` for a WebSocket handler that may fail after the upgrade.

    Such a handler gets an error page from Flask; written on the socket it would corrupt
    the frame stream. The WebSocket is closed as an error (1011) instead.

    :raises StopIteration: from the returned callable, once ``sock`` is upgraded, so that
        gunicorn drops the connection.
    """

    def start_response_unless_upgraded(status: str, headers: list, exc_info=None):
        if sock.upgraded:
            sock.close_frame(1011, "internal error")
            raise StopIteration(f"WebSocket handler failed ({status})")
        return start_response(status, headers, exc_info)

    return start_response_unless_upgraded


class SocketLimit:
    """WSGI middleware: at most ``limit`` WebSockets at once in this worker.

    A WebSocket handshake beyond the limit is answered ``503 Service Unavailable`` with
    ``Retry-After`` before any upgrade, so the client learns at once that it must try
    again (or another server) instead of waiting on a connection nobody serves. An
    admitted one gets its connection wrapped in :class:`WholeFrameSocket`.

    :param app: the WSGI app.
    :param limit: the most WebSockets this worker holds.
    """

    def __init__(self, app: Callable, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
            return self.app(environ, start_response)
        with self._lock:
            admitted = self.open < self.limit
            if admitted:
                self.open += 1
        if not admitted:
            return self._refuse(start_response)
        if "gunicorn.socket" in environ:
            sock = environ["gunicorn.socket"] = WholeFrameSocket(environ["gunicorn.socket"])
            start_response = no_error_page_after_upgrade(sock, start_response)
        try:
            # flask-sock serves the whole socket inside this call.
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self.open -= 1

    def _refuse(self, start_response: Callable) -> list[bytes]:
        """Answer a handshake beyond the limit: ``503`` with ``Retry-After``."""
        body = (f"This server holds {self.limit} chat connections per worker and they "
                "are all in use; try again shortly.\n").encode()
        start_response("503 Service Unavailable", [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(RETRY_AFTER_SECONDS)),
            ("Connection", "close"),
        ])
        return [body]
