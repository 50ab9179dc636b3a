"""A TCP relay between a browser and a live server that a test can cut, as a network does.

Usage::

    with Cutter(server.port) as relay:      # the browser goes to relay.url
        relay.hold()     # bytes from the server stop reaching the browser (an ack lost)
        relay.cut()      # every connection through it is closed; new ones are refused
        relay.restore()  # connections are accepted and relayed again

Cutting closes the relayed TCP connections themselves, so the browser's WebSocket ends as
when a network drops somewhere on the way, with nothing telling the page it is offline (no
``offline`` event, ``navigator.onLine`` stays true); holding loses the answers in flight,
which the browser's own offline emulation cannot do.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class Cutter:
    """Relay ``127.0.0.1:<port of its own>`` to ``127.0.0.1:upstream_port``.

    :param upstream_port: the port of the server behind it.

    ``source`` is the loopback address the relay connects from (``127.0.0.1``; a test may
    give each visitor an address of its own, as distinct visitors have).
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.source = "127.0.0.1"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._open = threading.Event()
        self._open.set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = False
        #: When (``time.monotonic()``) each connection refused while cut was tried.
        self.refused: list[float] = []
        self._thread = threading.Thread(target=self._accept, name=f"cutter-{self.port}",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def connections(self) -> int:
        """How many relayed connections are open now."""
        with self._lock:
            return len(self._pairs)

    def start(self) -> Cutter:
        self._thread.start()
        return self

    def hold(self) -> None:
        """Stop passing the server's bytes to the browser (they wait in the server's
        buffers, and are lost at the next :meth:`cut`)."""
        self._flowing.clear()

    def cut(self) -> None:
        """Close every relayed connection and refuse new ones until :meth:`restore`."""
        self._open.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _close(sock)
        self._flowing.set()

    def restore(self) -> None:
        """Accept and relay connections again."""
        self._flowing.set()
        self._open.set()

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        _close(self._listener)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                self.refused.append(time.monotonic())
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 5,
                                                    source_address=(self.source, 0))
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            for source, target, gated in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pump, args=(source, target, gated),
                                 daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, gated: bool) -> None:
        try:
            while True:
                if gated:
                    self._flowing.wait()
                data = source.recv(65536)
                if not data:
                    break
                if gated and not self._flowing.is_set():
                    self._flowing.wait()  # held: released only by cut (socket closed)
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._forget(source, target)

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            self._pairs = [p for p in self._pairs if not set(p) & set(socks)]
        for sock in socks:
            _close(sock)

    def __enter__(self) -> Cutter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
