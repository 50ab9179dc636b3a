"""Cross-site request forgery tokens for the demo's forms.

Each browser gets a random nonce in Flask's signed session cookie; a form carries that
nonce signed with the app's secret key (``itsdangerous``, which Flask already uses). A
post is accepted only when its token is authentic, younger than :data:`MAX_AGE` and
carries the browser's own nonce.
"""

from __future__ import annotations

import hmac
import secrets

from flask import current_app, session
from itsdangerous import BadData, URLSafeTimedSerializer

FIELD = "csrf_token"
MAX_AGE = 8 * 3600
_SALT = "psonlinechat.demo.csrf"
_SESSION_KEY = "csrf_nonce"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def token() -> str:
    """The token to put in a form of the current browser (creates its nonce once)."""
    nonce = session.get(_SESSION_KEY)
    if not nonce:
        nonce = session[_SESSION_KEY] = secrets.token_urlsafe(16)
    return _serializer().dumps(nonce)


def is_valid(submitted: str | None) -> bool:
    """Whether ``submitted`` is a live token for the current browser's nonce."""
    nonce = session.get(_SESSION_KEY)
    if not submitted or not nonce:
        return False
    try:
        signed = _serializer().loads(submitted, max_age=MAX_AGE)
    except BadData:
        return False
    return isinstance(signed, str) and hmac.compare_digest(signed, nonce)
