"""A WSGI middleware that puts the hooks' fragments into the HTML pages of the app it wraps.

``FragmentInjector(wsgi_app, flask_app)`` inserts the ``displayHeader`` fragment right
before the first ``</head>`` and the ``displayFooter`` fragment right before the last
``</body>`` (case-insensitive, once each) of every ``text/html`` response, and fixes
``Content-Length``; on back-office pages (its ``back_office`` flag or predicate) it uses
``displayBackOfficeHeader`` and ``displayBackOfficeFooter`` instead. The fragments are
those of ``flask_app``'s plugins (:func:`~psonlinechat.web.fragments.render_hook`), for the
page's own request: its cookies say who is there.

Left as they are: ``HEAD`` requests; 1xx, 204, 206 and 304 answers; responses with any
``Content-Encoding``; anything but ``text/html``; streamed responses (no ``Content-Length``
and a body that is not a list: passed through, never buffered); bodies over ``max_bytes``.
A fragment that fails (a plugin raising, the database away) is logged and nothing is
inserted: the page is served as the app made it. A changed page loses its ``ETag`` and
``Content-MD5`` and varies on ``Cookie`` and ``Accept-Language``, as the fragments do.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from typing import Any

import flask
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header, parse_set_header
from werkzeug.wsgi import ClosingIterator

from psonlinechat.prestashop.php import ascii_digits
from psonlinechat.web.fragments import VARY, render_hook

logger = logging.getLogger(__name__)

#: Bodies larger than this (bytes) are passed through untouched.
MAX_BYTES = 5 * 1024 * 1024
#: Answers that carry no page to change.
_UNCHANGED_STATUSES = frozenset({204, 206, 304})

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]


class _Captured:
    """The wrapped app's ``start_response``, held back until the page is known; once
    :meth:`forward` is called, later calls go straight to the server's."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.exc_info: Any = None
        self.written: list[bytes] = []
        self._server: StartResponse | None = None

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], object]:
        if self._server is not None:
            return self._server(status, headers, exc_info)
        self.status, self.headers, self.exc_info = status, headers, exc_info
        return self.written.append

    def forward(self, server: StartResponse) -> None:
        self._server = server


class FragmentInjector:
    """Wrap ``wsgi_app`` so that its HTML pages carry ``flask_app``'s hook fragments.

    :param wsgi_app: the WSGI app whose pages get the fragments (a shop's proxy, or
        ``flask_app.wsgi_app`` itself).
    :param flask_app: the app :class:`~psonlinechat.OnlineChat` was set up on.
    :param back_office: ``True`` when every page is a back-office page, or
        ``fn(environ) -> bool`` telling which are.
    :param pages: ``fn(environ) -> bool``, the requests whose answers may be changed
        (default: all).
    :param max_bytes: the largest body changed; a larger one passes untouched.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], flask_app: flask.Flask, *,
                 back_office: bool | Callable[[Environ], bool] = False,
                 pages: Callable[[Environ], bool] | None = None,
                 max_bytes: int = MAX_BYTES) -> None:
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.back_office = back_office
        self.pages = pages
        self.max_bytes = max_bytes

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET").upper() == "HEAD" or (
                self.pages is not None and not self.pages(environ)):
            return self.wsgi_app(environ, start_response)
        captured = _Captured()
        result = self.wsgi_app(environ, captured.start_response)
        if captured.status is None:  # it starts the response while iterated: let it
            captured.forward(start_response)
            return result
        headers = Headers(captured.headers)
        if not self._eligible(captured.status, headers, result):
            start_response(captured.status, captured.headers, captured.exc_info)
            return _joined(captured.written, result)
        chunks = self._read(captured.written, result)
        if not isinstance(chunks, list):  # over the size bound after all
            start_response(captured.status, captured.headers, captured.exc_info)
            return chunks
        body = b"".join(chunks)
        changed = self._inject(environ, body, headers)
        if changed is not None:
            body = changed
            _fix_headers(headers, len(body))
        start_response(captured.status, headers.to_wsgi_list(), captured.exc_info)
        return [body]

    def _eligible(self, status: str, headers: Headers, result: Iterable[bytes]) -> bool:
        """Whether this response is an HTML page of a size worth reading."""
        code = int(status.split(None, 1)[0])
        if code < 200 or code in _UNCHANGED_STATUSES or headers.get("Content-Encoding"):
            return False
        if parse_options_header(headers.get("Content-Type", ""))[0].lower() != "text/html":
            return False
        length = headers.get("Content-Length")
        if length is None:
            return isinstance(result, (list, tuple))
        size = ascii_digits(length)
        return size is not None and size <= self.max_bytes

    def _read(self, written: list[bytes],
              result: Iterable[bytes]) -> list[bytes] | Iterable[bytes]:
        """The whole body as a list of chunks, ``result`` closed; or, when it grows past
        ``max_bytes``, an iterable of what was read and the rest (closed by the server)."""
        chunks, total = list(written), sum(map(len, written))
        iterator = iter(result)
        try:
            for chunk in iterator:
                chunks.append(chunk)
                total += len(chunk)
                if total > self.max_bytes:
                    return _joined(chunks, iterator, closing=result)
        except BaseException:
            _close(result)
            raise
        _close(result)
        return chunks

    def _inject(self, environ: Environ, body: bytes, headers: Headers) -> bytes | None:
        """``body`` with the fragments inserted, or ``None`` when nothing was (no place for
        them, empty fragments, or a fragment that failed: logged)."""
        lowered = body.lower()
        places = {"header": lowered.find(b"</head>"), "footer": lowered.rfind(b"</body>")}
        places = {part: at for part, at in places.items() if at >= 0}
        if not places:
            return None
        charset = parse_options_header(headers.get("Content-Type", ""))[1].get(
            "charset", "utf-8")
        try:
            inserts = {at: self._fragment(environ, part).encode(charset, "xmlcharrefreplace")
                       for part, at in places.items()}
        except Exception:
            logger.exception("psonlinechat: a hook fragment failed; the page at %s is "
                             "served without fragments", environ.get("PATH_INFO", "/"))
            return None
        if not any(inserts.values()):
            return None
        for at in sorted(inserts, reverse=True):
            body = body[:at] + inserts[at] + body[at:]
        return body

    def _fragment(self, environ: Environ, part: str) -> str:
        """The HTML of the header or footer hook for this request's kind of page."""
        back_office = (self.back_office(environ) if callable(self.back_office)
                       else self.back_office)
        name = f"display_back_office_{part}" if back_office else f"display_{part}"
        return str(render_hook(self.flask_app, name, environ))


def _fix_headers(headers: Headers, length: int) -> None:
    """The headers of a changed page: its new length, no validators of the old body, and
    the request headers the fragments depend on in ``Vary``."""
    headers["Content-Length"] = str(length)
    headers.remove("ETag")
    headers.remove("Content-MD5")
    vary = parse_set_header(headers.get("Vary"))
    if "*" not in vary:
        for name in VARY:
            vary.add(name)
        headers["Vary"] = vary.to_header()


def _joined(first: list[bytes], rest: Iterable[bytes], *,
            closing: Iterable[bytes] | None = None) -> Iterable[bytes]:
    """``first`` then ``rest``, closing ``closing`` (default ``rest``) when the server closes
    it; ``rest`` itself when ``first`` is empty and nothing else needs closing."""
    target = rest if closing is None else closing
    if not first and closing is None:
        return rest
    return ClosingIterator(itertools.chain(first, rest), [lambda: _close(target)])


def _close(result: Iterable[bytes]) -> None:
    """Call ``result.close()`` when it has one (PEP 3333)."""
    close = getattr(result, "close", None)
    if close is not None:
        close()
