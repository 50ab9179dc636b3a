"""``POST <prefix>/offline``: the offline form's endpoint (thin: guard, parse, call, answer).

Guards, in order: the body's size (411 without a length, 413 over :data:`MAX_BODY`);
the ``Origin`` (403 unless it is the shop's, as for the sockets' handshake); a
per-address rate limit (429 with ``Retry-After`` past :data:`RATE_LIMIT` posts in
:data:`RATE_WINDOW` seconds, counted across workers through Redis when it is configured,
see :func:`limiter_for`); the honeypot field :data:`HONEYPOT` (400 when a robot filled
it). Then the post, as JSON or as a form, is checked and stored with its mail queued
(:func:`psonlinechat.mail.offline.receive`): 409 when the merchant turned offline mode off,
422 with ``{"errors": {field: code}}`` when a field is wrong, 201 with
``{"id": …, "mail": "queued"}`` once stored. Nothing is stored from a refused post.
After the commit the app's mail sender is woken (it sends from its own thread, never
inside the request: see :mod:`psonlinechat.mail.sender`) and the plugins'
``action_offline_message_received`` hook hears of it; the answer does not wait for the mail.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from psonlinechat.chat.broker import namespace_for
from psonlinechat.mail.offline import receive
from psonlinechat.store.rate_limits import RateLimit, rate_limit
from psonlinechat.web import plugins as plugin_calls
from psonlinechat.web.sockets.routes import request_origin_allowed
from psonlinechat.web.state import ChatState

OFFLINE_PATH = "/offline"
#: The largest body accepted, in bytes (the form's limits, UTF-8, with room to spare).
MAX_BODY = 32 * 1024
#: Posts one address may make per :data:`RATE_WINDOW` seconds.
RATE_LIMIT = 5
RATE_WINDOW = 600.0
#: A field no person fills (the widget hides it); a post with it filled is refused.
HONEYPOT = "website"


def _refused(status: int, error: str, **extra: Any) -> Response:
    response = jsonify({"error": error, **extra})
    response.status_code = status
    return response


def _post_fields() -> dict[str, Any] | None:
    """The post's fields (a JSON object or a form), or ``None`` when it is neither."""
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None
    return request.form.to_dict()


def limiter_for(state: ChatState) -> RateLimit:
    """The per-address limit of the app's offline form: shared by every worker through
    Redis when ``PSONLINECHAT_REDIS_URL`` is set, counted in this process otherwise."""
    s = state.settings
    namespace = namespace_for(s.database_url or "", s.table_prefix) + "offline:"
    return rate_limit(s.redis_url, namespace, RATE_LIMIT, RATE_WINDOW)


def _guard(state: ChatState, limiter: RateLimit) -> Response | None:
    """The answer refusing the current post before it is read, or ``None``."""
    if request.content_length is None:
        return _refused(411, "length_required")
    if request.content_length > MAX_BODY:
        return _refused(413, "too_large", limit=MAX_BODY)
    if not request_origin_allowed(state):
        return _refused(403, "origin")
    wait = limiter.hit(request.remote_addr or "")
    if wait:
        response = _refused(429, "rate_limited")
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    return None


def register(bp: Blueprint, state: ChatState) -> None:
    """Add ``POST /offline`` to the module's blueprint (with its rate limit,
    :func:`limiter_for`), and start the app's mail sender on the app's first request, so
    that a new process sends what an old one left queued. Call before the blueprint is
    registered."""
    limiter = limiter_for(state)
    bp.before_app_request(state.mail.start)
    actions = plugin_calls.actions_for(state.plugins)

    def offline_message() -> Response:
        refused = _guard(state, limiter)
        if refused is not None:
            return refused
        post = _post_fields()
        if post is None:
            return _refused(400, "body", detail="send a JSON object or a form")
        if str(post.get(HONEYPOT) or "").strip():
            return _refused(400, "refused")
        visitor = state.identify_visitor(request)
        received = receive(state.shop, visitor, post, page_url=post.get("page_url", ""),
                           ip=request.remote_addr or "", now=state.mail.queue().now())
        if not received.open:
            return _refused(409, "offline_mode_off")
        if not received.stored:
            return _refused(422, "invalid", errors=received.errors)
        state.mail.wake()
        actions("action_offline_message_received", id_shop=visitor.id_shop,
                message=received.summary)
        response = jsonify({"id": received.id_offline_message, "mail": "queued"})
        response.status_code = 201
        return response

    bp.add_url_rule(OFFLINE_PATH, view_func=offline_message, methods=["POST"])
