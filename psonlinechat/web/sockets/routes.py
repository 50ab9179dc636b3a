"""The WebSocket edge: ``<prefix>/ws/visitor`` and ``<prefix>/ws/operator`` (flask-sock).

Thin: the handshake is checked (Origin; an employee for the operator socket) before the
upgrade, then the socket is served by :class:`~psonlinechat.web.sockets.visitor.VisitorSocket`
or :class:`~psonlinechat.web.sockets.operator.OperatorSocket` over the app's
:class:`~psonlinechat.chat.engine.Chat` engine. docs/protocol.md is the reference of every frame.
"""

from __future__ import annotations

import contextlib
import logging
import time
import urllib.parse
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, request
from flask_sock import Sock

from psonlinechat.prestashop.php import ascii_digits
from psonlinechat.store import engine as db
from psonlinechat.web.blueprint import ChatBlueprint
from psonlinechat.web.outage import RETRY_AFTER_SECONDS
from psonlinechat.web.sockets.operator import OperatorSocket
from psonlinechat.web.sockets.visitor import VisitorSocket
from psonlinechat.web.state import ChatState

__all__ = ["DEFAULT_PORTS", "OPERATOR_PATH", "VISITOR_PATH", "ascii_host", "busy",
           "handshake_refusal",
           "origin_allowed", "origin_key", "register", "request_origin_allowed"]

VISITOR_PATH, OPERATOR_PATH = "/ws/visitor", "/ws/operator"

log = logging.getLogger(__name__)


#: The port an origin means when it names none.
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_allowed(origin: str | None, request_origin: str, shop_hosts: set[str],
                   allowed_origins: tuple[str, ...]) -> bool:
    """Whether a handshake's ``Origin`` may open a socket.

    Scheme, host and port are compared, a port left out meaning the scheme's default (80
    for http, 443 for https), host names in their ASCII (punycode) form. Allowed: the
    request's own origin (``request_origin``, its scheme and ``Host``); a host of the
    shop's ``shop_url`` rows (``shop_hosts``: ``name`` for the default port of http or
    https, ``name:port`` for that port); one of ``allowed_origins``. A missing,
    unparsable or listed Origin (several headers, which the server joins with commas) is
    refused, never raised.
    """
    key = origin_key(origin)
    if key is None:
        return False
    if key == origin_key(request_origin) or key in {origin_key(o) for o in allowed_origins}:
        return True
    scheme, name, port = key
    for host in map(ascii_host, shop_hosts):
        shop_name, _, shop_port = host.partition(":")
        number = ascii_digits(shop_port)
        wanted = DEFAULT_PORTS[scheme] if number is None else number
        if (shop_name, wanted) == (name, port):
            return True
    return False


def origin_key(origin: str | None) -> tuple[str, str, int] | None:
    """``(scheme, ascii host name, port)`` of one serialised origin, or ``None`` when it is
    missing, unparsable, not http(s), carries more than an origin (credentials, a path,
    a query), or is a list of origins."""
    if not origin or "," in origin or len(origin.split()) != 1:
        return None
    try:
        parts = urllib.parse.urlsplit(origin.strip())
        hostname, port = parts.hostname, parts.port
    except ValueError:  # "http://[::1": a bracket never closed; a port out of range
        return None
    if (parts.scheme not in DEFAULT_PORTS or not hostname or "@" in parts.netloc
            or parts.path not in {"", "/"} or parts.query or parts.fragment):
        return None
    return parts.scheme, ascii_host(hostname), port or DEFAULT_PORTS[parts.scheme]


def ascii_host(host: str) -> str:
    """``host`` (``name[:port]``) lowercased, its name in the ASCII (punycode) form browsers
    send in ``Origin``: a shop_url may hold ``bücher.example``. Left as is if not IDNA."""
    name, colon, port = host.lower().partition(":")
    with contextlib.suppress(UnicodeError):
        name = name.encode("idna").decode("ascii")
    return name + colon + port


def request_origin_allowed(state: ChatState) -> bool:
    """Whether the current request carries one ``Origin`` that :func:`origin_allowed` lets
    in (the sockets' handshakes and the offline form's posts share this rule).

    :raises ShopError: the shop's database is out of reach (its hosts are read).
    """
    origins = request.headers.getlist("Origin")
    return len(origins) == 1 and origin_allowed(
        origins[0], f"{request.scheme}://{request.host}", state.chat().shop_hosts(),
        state.settings.allowed_origins)


def handshake_refusal(state: ChatState, *, operator: bool) -> Response | None:
    """Why the socket handshake of the current request is refused, before the upgrade:
    403 for a foreign Origin (or several), 401 without an employee, 503 with
    ``Retry-After`` when no pooled connection came in the pool's time (a worker past its
    capacity); ``None`` to go on. Who the client is is known here, and the database
    answered a ping, so that a database out of reach is answered 503 (by the blueprint's
    error handler), never after the upgrade.

    A handshake holds at most one pooled connection at a time, each briefly: held across
    the identification (whose reads check out their own, and wait for the directory's
    lock), many handshakes at once took the whole pool and waited for a second connection,
    until the pool timed them out.

    :raises ShopError: the shop's database is out of reach.
    """
    try:
        if not request_origin_allowed(state):
            return Response("this origin may not open chat sockets\n", 403,
                            mimetype="text/plain")
        state.identify_visitor(request)
        if operator and state.identify_employee(request) is None:
            return Response("sign in to the back office first\n", 401, mimetype="text/plain")
        with state.shop.connect() as conn:  # checked out with a ping: the database answers
            db.transaction_ended(conn)  # nothing ran: no ROLLBACK on the way back
    except sa.exc.TimeoutError:
        return busy()
    return None


def busy() -> Response:
    """``503`` with ``Retry-After``: the worker's database pool had no connection to give
    in its time. Logged at most once a minute (it says the worker is past its capacity)."""
    now = time.monotonic()
    if now - _busy_logged[0] >= 60:
        _busy_logged[0] = now
        log.warning("socket handshakes waited %s s for a database connection and were "
                    "answered 503: this worker is past its capacity (add workers, or raise "
                    "PSONLINECHAT_POOL_SIZE)", db.POOL_TIMEOUT)
    return Response("the chat is busy; try again shortly\n", 503,
                    {"Retry-After": str(RETRY_AFTER_SECONDS)}, mimetype="text/plain")


_busy_logged = [-60.0]  # when busy() last logged (monotonic)


def register(app: Flask, bp: ChatBlueprint, state: ChatState) -> None:
    """Add the two socket routes (and their handshake checks) to the module's blueprint.

    Call before the blueprint is registered on ``app``.
    """
    sock = Sock()
    endpoints = {f"{bp.name}.visitor_socket", f"{bp.name}.operator_socket"}

    @bp.before_request
    def check_handshake() -> Response | None:
        if request.endpoint not in endpoints:
            return None
        refused = handshake_refusal(state, operator=request.endpoint.endswith(".operator_socket"))
        if refused is None:
            bp.outage.recovered()
        return refused

    @sock.route(VISITOR_PATH, bp=bp)
    def visitor_socket(ws: Any) -> None:
        VisitorSocket(ws, state.chat(), state.identify_visitor(request),
                      request.headers.get("User-Agent"),
                      request.headers.get("Accept-Language"), outage=bp.outage).run()

    @sock.route(OPERATOR_PATH, bp=bp)
    def operator_socket(ws: Any) -> None:
        chat = state.chat()
        employee = state.identify_employee(request)
        if employee is None:  # the cookie expired between the check and the upgrade
            ws.close(reason=1008, message="sign in to the back office first")
            return
        OperatorSocket(ws, chat, employee, state.identify_visitor(request).id_shop,
                       outage=bp.outage).run()
