"""``POST <prefix>/offline``: the offline form's endpoint (thin: guard, parse, call, answer).

Guards, in order: the body's size (411 without a length, 413 over :data:`MAX_BODY`);
the ``Origin`` (403 unless it is the shop's, as for the sockets' handshake); a
per-address rate limit (429 with ``Retry-After`` past :data:`RATE_LIMIT` posts in
:data:`RATE_WINDOW` seconds); the honeypot field :data:`HONEYPOT` (400 when a robot filled
it). Then the post, as JSON or as a form, is checked and stored with its mail queued
(:func:`psonlinechat.mail.offline.receive`): 409 when the merchant turned offline mode off,
422 with ``{"errors": {field: code}}`` when a field is wrong, 201 with ``{"id": …}`` once
stored. Nothing is stored from a refused post. After the commit the plugins'
``action_offline_message_received`` hook hears of it, then its mail is sent; a mail that
cannot leave now stays queued (``psonlinechat mail send-pending``).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from psonlinechat.errors import ShopError
from psonlinechat.mail.offline import receive
from psonlinechat.mail.queue import MailQueue
from psonlinechat.web import plugins as plugin_calls
from psonlinechat.web.sockets.routes import request_origin_allowed
from psonlinechat.web.state import ChatState

logger = logging.getLogger(__name__)

OFFLINE_PATH = "/offline"
#: The largest body accepted, in bytes (the form's limits, UTF-8, with room to spare).
MAX_BODY = 32 * 1024
#: Posts one address may make per :data:`RATE_WINDOW` seconds.
RATE_LIMIT = 5
RATE_WINDOW = 600.0
#: A field no person fills (the widget hides it); a post with it filled is refused.
HONEYPOT = "website"


class RateLimit:
    """At most ``limit`` hits per key in any ``window`` seconds (a sliding window, in this
    process: each worker counts its own).

    :param clock: monotonic seconds (tests move it).
    """

    def __init__(self, limit: int = RATE_LIMIT, window: float = RATE_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one hit for ``key``; ``0`` when allowed, else the seconds until it would be."""
        now = self.clock()
        with self._lock:
            if len(self._hits) > 10_000:
                self._forget(now)
            hits = self._hits.setdefault(key, collections.deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0

    def _forget(self, now: float) -> None:
        stale = [key for key, hits in self._hits.items()
                 if not hits or hits[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]


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


def _send(queue: MailQueue, id_mail: int | None) -> str:
    """Send the new mail now; ``"pending"`` when it could not leave yet (it stays queued,
    the database failing included: the message itself is committed)."""
    try:
        return (queue.send(id_mail) if id_mail is not None else None) or "pending"
    except ShopError:
        logger.warning("psonlinechat: offline mail %s stays queued: the database failed",
                       id_mail, exc_info=True)
        return "pending"


def register(bp: Blueprint, state: ChatState) -> None:
    """Add ``POST /offline`` to the module's blueprint (with a rate limit of its own, see
    :class:`RateLimit`). Call before the blueprint is registered."""
    limiter = RateLimit()
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
        queue = MailQueue(state.shop, mailer=state.mailer)
        received = receive(state.shop, visitor, post, page_url=post.get("page_url", ""),
                           ip=request.remote_addr or "", now=queue.now())
        if not received.open:
            return _refused(409, "offline_mode_off")
        if not received.stored:
            return _refused(422, "invalid", errors=received.errors)
        actions("action_offline_message_received", id_shop=visitor.id_shop,
                message=received.summary)
        response = jsonify({"id": received.id_offline_message,
                            "mail": _send(queue, received.id_mail)})
        response.status_code = 201
        return response

    bp.add_url_rule(OFFLINE_PATH, view_func=offline_message, methods=["POST"])
