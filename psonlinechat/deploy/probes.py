"""Requests the doctor makes from the outside, as a browser would: a page, and the opening
of a WebSocket (the handshake only). Standard library only; proxies from the environment
are ignored, since the point is to reach the shop itself.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_BODY = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Answer:
    """What a request got: ``status`` 0 and an ``error`` when nothing answered."""

    status: int
    headers: dict[str, str]
    body: str = ""
    error: str | None = None


def get(url: str, timeout: float, headers: dict[str, str] | None = None) -> Answer:
    """GET ``url`` (redirects followed); never raises."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": "psonlinechat-doctor",
                                                   **(headers or {})})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_BODY).decode("utf-8", "replace")
            return Answer(response.status, _lower(response.headers.items()), body)
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _lower(exc.headers.items()), exc.read(MAX_BODY).decode(
            "utf-8", "replace"))
    except (OSError, ValueError) as exc:  # URLError is an OSError
        return Answer(0, {}, error=str(getattr(exc, "reason", exc)))


def _lower(items: Iterable[Sequence[str]]) -> dict[str, str]:
    return {pair[0].lower(): pair[1] for pair in items}


def _open(parts: urllib.parse.SplitResult, timeout: float) -> socket.socket:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = socket.create_connection((parts.hostname or "", port), timeout=timeout)
    if parts.scheme == "https":
        return ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
    return sock


def _read_head(sock: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return head.split(b"\r\n\r\n", 1)[0]


def handshake(url: str, origin: str, timeout: float) -> Answer:
    """Open a WebSocket to ``url`` (http or https) with ``origin`` and close it at once.

    ``status`` is 101 only when the upgrade succeeded with a correct
    ``Sec-WebSocket-Accept``. Never raises.
    """
    parts = urllib.parse.urlsplit(url)
    key = base64.b64encode(os.urandom(16))
    request = (f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: {origin}\r\nUser-Agent: psonlinechat-doctor\r\n\r\n")
    try:
        with _open(parts, timeout) as sock:
            sock.sendall(request.encode("latin-1"))
            head = _read_head(sock).decode("latin-1")
    except (OSError, ValueError, UnicodeError) as exc:
        return Answer(0, {}, error=str(exc))
    lines = head.split("\r\n")
    fields = lines[0].split(" ", 2)
    if len(fields) < 2 or not fields[1].isdigit():
        return Answer(0, {}, error=f"not an HTTP answer: {lines[0][:80]!r}")
    headers = _lower(line.split(":", 1) for line in lines[1:] if ":" in line)
    headers = {name: value.strip() for name, value in headers.items()}
    status = int(fields[1])
    accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest()).decode()
    if status == 101 and headers.get("sec-websocket-accept") != accept:
        return Answer(0, headers, error="101 with a wrong Sec-WebSocket-Accept")
    return Answer(status, headers)
