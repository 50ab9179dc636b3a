"""Visitors' resume tokens: unguessable, signed by this server, stored only as a hash.

A token is issued before its conversation exists (in the visitor's ``welcome``), so that
the first message can be resent after a lost ack without opening a second conversation.
It is signed, so that only tokens this server issued reach the database; the table stores
only its sha256 (:func:`token_hash`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

#: Longest token accepted.
MAX_TOKEN = 128


def token_hash(token: str) -> str:
    """The sha256 hex digest stored for a resume token."""
    return hashlib.sha256(token.encode()).hexdigest()


class ResumeTokens:
    """Issues and checks resume tokens signed with a key derived from ``secret``."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"psonlinechat-token|" + secret.encode()).digest()

    def issue(self) -> str:
        """A new unguessable resume token: ``<nonce>.<signature>``."""
        nonce = secrets.token_urlsafe(24)
        return nonce + "." + self._sign(nonce)

    def _sign(self, nonce: str) -> str:
        digest = hmac.new(self._key, nonce.encode(), hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def is_ours(self, token: str) -> bool:
        """Whether this server issued ``token`` (any text is safe to pass)."""
        if len(token) > MAX_TOKEN:
            return False
        nonce, _, signature = token.partition(".")
        try:
            expected = self._sign(nonce)
        except UnicodeEncodeError:  # a lone surrogate: never one of ours
            return False
        return bool(nonce) and hmac.compare_digest(signature.encode("utf-8", "replace"),
                                                   expected.encode())
