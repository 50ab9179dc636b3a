"""PrestaShop's password hashes: bcrypt ``$2y$`` (1.7+) with the legacy md5 fallback (FACTS §4).

PHP's ``$2y$`` and the ``bcrypt`` package's ``$2b$`` are the same algorithm, so the prefix
is swapped both ways. Like PHP, only the first 72 bytes of a password count.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import bcrypt

_BCRYPT_RE = re.compile(r"^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$")
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")
_BCRYPT_MAX_BYTES = 72


def is_bcrypt(stored: str) -> bool:
    """Whether ``stored`` is a bcrypt hash (as PrestaShop writes since 1.7)."""
    return bool(_BCRYPT_RE.match(stored or ""))


def _secret(password: str) -> bytes:
    return password.encode("utf-8")[:_BCRYPT_MAX_BYTES]


def hash_password(password: str, rounds: int = 10) -> str:
    """A ``$2y$10$…`` hash of ``password``, as PHP's ``password_hash`` writes it."""
    hashed = bcrypt.hashpw(_secret(password), bcrypt.gensalt(rounds=rounds, prefix=b"2b"))
    return "$2y$" + hashed.decode("ascii")[4:]


def legacy_hash(password: str, cookie_key: str) -> str:
    """PrestaShop 1.6's hash: md5 hex of ``cookie_key`` + password."""
    return hashlib.md5((cookie_key + password).encode("utf-8")).hexdigest()


def verify_password(password: str, stored: str, cookie_key: str | None = None) -> bool:
    """Whether ``password`` matches ``stored``: bcrypt first, then legacy md5 when
    ``cookie_key`` is given. Comparisons are constant-time; never raises.
    """
    if not isinstance(password, str) or not isinstance(stored, str) or not stored:
        return False
    if is_bcrypt(stored):
        candidate = "$2b$" + stored[4:]
        try:
            return bcrypt.checkpw(_secret(password), candidate.encode("ascii"))
        except ValueError:
            return False
    if cookie_key is not None and _MD5_RE.match(stored):
        return hmac.compare_digest(legacy_hash(password, cookie_key), stored)
    return False
