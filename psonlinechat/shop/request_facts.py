"""What identity needs to know of an HTTP request: :class:`RequestFacts`, Flask-free.

Built from a WSGI environ (:meth:`RequestFacts.from_environ`), so that a hook handler, a
WSGI middleware or a socket route can ask who is there without a Flask request. Kept: the
request headers (identity plugins may read any, e.g. a single sign-on header), the cookies,
the remote address and the path the shop is matched against.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

#: Headers WSGI gives without the ``HTTP_`` prefix.
_UNPREFIXED = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}

_ESCAPE_RE = re.compile(r"\\(.)")


def _wsgi_text(value: str) -> str:
    """A WSGI "bytes as latin-1" string as the UTF-8 text the browser meant."""
    return value.encode("latin-1", "replace").decode("utf-8", "replace")


def parse_cookie_header(header: str) -> dict[str, str]:
    """The cookies of a ``Cookie`` header, the first of each name winning; a quoted value
    loses its quotes and backslash escapes. Never raises: a piece without ``=`` is skipped.
    """
    found: dict[str, str] = {}
    for piece in header.split(";"):
        name, equals, value = piece.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or name in found:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = _ESCAPE_RE.sub(r"\1", value[1:-1])
        found[name] = value
    return found


@dataclasses.dataclass(frozen=True)
class RequestFacts:
    """One request as identity sees it.

    :param headers: every header the request carried, under its title-cased name as
        Werkzeug spells it (``X-Forwarded-For``); look them up by that name.
    :param cookies: name to value, as the browser sent them.
    :param remote_addr: the peer's address (``REMOTE_ADDR``).
    :param script_root: where the app is mounted (``SCRIPT_NAME``), decoded.
    :param path: the path below it (``PATH_INFO``), decoded.
    """

    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    remote_addr: str | None = None
    script_root: str = ""
    path: str = "/"

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> RequestFacts:
        """The facts of a WSGI request. Never raises on odd input."""
        headers = {}
        for key, value in environ.items():
            name = _UNPREFIXED.get(key) or (
                key[5:].replace("_", "-").title() if key.startswith("HTTP_") else None)
            if name and isinstance(value, str):
                headers[name] = _wsgi_text(value)
        cookie_header = environ.get("HTTP_COOKIE")
        return cls(headers=headers,
                   cookies=parse_cookie_header(_wsgi_text(cookie_header))
                   if isinstance(cookie_header, str) else {},
                   remote_addr=environ.get("REMOTE_ADDR"),
                   script_root=_wsgi_text(str(environ.get("SCRIPT_NAME") or "")).rstrip("/"),
                   path="/" + _wsgi_text(str(environ.get("PATH_INFO") or "")).lstrip("/"))

    @classmethod
    def of(cls, environ: dict[str, Any]) -> RequestFacts:
        """The facts of ``environ``, computed once per request (kept in the environ)."""
        facts = environ.get("psonlinechat.request_facts")
        if not isinstance(facts, cls):
            facts = environ["psonlinechat.request_facts"] = cls.from_environ(environ)
        return facts
