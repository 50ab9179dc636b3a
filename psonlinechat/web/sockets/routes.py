"""The WebSocket edge: ``<prefix>/ws/visitor`` and ``<prefix>/ws/operator`` (flask-sock).

Thin: the handshake is checked (Origin; an employee for the operator socket) before the
upgrade, then the socket is served by :class:`~psonlinechat.web.sockets.visitor.VisitorSocket`
or :class:`~psonlinechat.web.sockets.operator.OperatorSocket` over the app's
:class:`~psonlinechat.chat.engine.Chat` engine. docs/protocol.md is the reference of every frame.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from flask import Blueprint, Flask, Response, request
from flask_sock import Sock

from psonlinechat.chat.engine import Chat
from psonlinechat.web.sockets.operator import OperatorSocket
from psonlinechat.web.sockets.visitor import VisitorSocket

from psonlinechat.web.state import ChatState

__all__ = ["OPERATOR_PATH", "VISITOR_PATH", "Chat", "ascii_host", "origin_allowed", "register"]

VISITOR_PATH, OPERATOR_PATH = "/ws/visitor", "/ws/operator"


def origin_allowed(origin: str | None, host: str, shop_hosts: set[str],
                   allowed_origins: tuple[str, ...]) -> bool:
    """Whether a handshake's ``Origin`` may open a socket: the request's own host, a shop
    host (any port when the shop_url names none), or one of ``allowed_origins``; an
    unparsable Origin is refused, never raised."""
    if not origin:
        return False
    try:
        parts = urllib.parse.urlsplit(origin.strip())
        hostname = parts.hostname
    except ValueError:  # "http://[::1": a bracket never closed
        return False
    if parts.scheme not in {"http", "https"} or not hostname:
        return False
    netloc = parts.netloc.lower()
    if netloc == host.lower():
        return True
    if f"{parts.scheme}://{netloc}" in {o.rstrip("/").lower() for o in allowed_origins}:
        return True
    return any(netloc == h or (":" not in h and hostname == h)
               for h in map(ascii_host, shop_hosts))


def ascii_host(host: str) -> str:
    """``host`` (``name[:port]``) lowercased, its name in the ASCII (punycode) form browsers
    send in ``Origin``: a shop_url may hold ``bücher.example``. Left as is if not IDNA."""
    name, colon, port = host.lower().partition(":")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return name + colon + port


def register(app: Flask, bp: Blueprint, state: ChatState) -> None:
    """Add the two socket routes (and their handshake checks) to the module's blueprint.

    Call before the blueprint is registered on ``app``.
    """
    sock = Sock()
    endpoints = {f"{bp.name}.visitor_socket", f"{bp.name}.operator_socket"}

    @bp.before_request
    def check_handshake() -> Response | None:
        """Refuse before upgrading: 403 for a foreign Origin, 401 without an employee."""
        if request.endpoint not in endpoints:
            return None
        chat = state.chat()
        if not origin_allowed(request.headers.get("Origin"), request.host, chat.shop_hosts(),
                              state.settings.allowed_origins):
            return Response("this origin may not open chat sockets\n", 403,
                            mimetype="text/plain")
        if request.endpoint.endswith(".operator_socket") and \
                state.identify_employee(request) is None:
            return Response("sign in to the back office first\n", 401, mimetype="text/plain")
        return None

    @sock.route(VISITOR_PATH, bp=bp)
    def visitor_socket(ws: Any) -> None:
        VisitorSocket(ws, state.chat(), state.identify_visitor(request),
                      request.headers.get("User-Agent"),
                      request.headers.get("Accept-Language")).run()

    @sock.route(OPERATOR_PATH, bp=bp)
    def operator_socket(ws: Any) -> None:
        chat = state.chat()
        employee = state.identify_employee(request)
        if employee is None:  # the cookie expired between the check and the upgrade
            ws.close(reason=1008, message="sign in to the back office first")
            return
        OperatorSocket(ws, chat, employee, state.identify_visitor(request).id_shop).run()
