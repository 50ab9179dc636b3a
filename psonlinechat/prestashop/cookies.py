"""PrestaShop's cookies: names, defuse v2 encryption, the ``key|value¤`` content and its checksum.

Reading never raises: :func:`decode` returns ``None`` for anything PrestaShop itself would
treat as an empty cookie (bad hex, wrong key, bad MAC, bad checksum, oversized value).
Writing (:func:`encode`, :func:`set_cookie`) exists for the embedded demo and the tests;
the bridge never rewrites a real shop's cookie.

Formats (FACTS §3): the value is lower-case hex of ``DE F5 02 00 ‖ salt(32) ‖ iv(16) ‖
AES-256-CTR(plaintext) ‖ HMAC-SHA256(32)``, keys derived from ``new_cookie_key`` with
HKDF-SHA256; the plaintext is ``key|value¤…checksum|<sha256 hex of cookie_iv + pairs>``
(decimal crc32 before PrestaShop 1.7.7); the name is ``PrestaShop-`` + md5(version +
cookie name + domain).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from psonlinechat.prestashop.php import php_string

#: The pair separator, U+00A4, two bytes (C2 A4) in UTF-8.
SEPARATOR = "\u00a4"
#: Browsers drop, and PrestaShop 9 refuses, cookies whose name and value exceed this.
MAX_COOKIE_BYTES = 4096
#: Every PrestaShop cookie name starts with this.
NAME_PREFIX = "PrestaShop-"
#: The back-office cookie's logical name.
ADMIN_COOKIE = "psAdmin"

_KEY_HEADER = bytes.fromhex("def00000")
_CIPHERTEXT_HEADER = bytes.fromhex("def50200")
_SALT_BYTES, _IV_BYTES, _MAC_BYTES, _KEY_BYTES = 32, 16, 32, 32
_MIN_CIPHERTEXT_BYTES = len(_CIPHERTEXT_HEADER) + _SALT_BYTES + _IV_BYTES + _MAC_BYTES
_AUTH_INFO = b"DefusePHP|V2|KeyForAuthentication"
_ENCRYPTION_INFO = b"DefusePHP|V2|KeyForEncryption"
_HEX_RE = re.compile(r"^[0-9a-fA-F]*$")
_IPV4_RE = re.compile(r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
                      r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$")
# PCRE '/^(?:.*\.)?([^.]*(?:.{2,4})?\..{2,3})$/Ui' with the U flag's greediness spelled out.
_SHARED_DOMAIN_RE = re.compile(r"^(?:.*?\.)??([^.]*?(?:.{2,4}?)??\..{2,3}?)$", re.I)

SHA256, CRC32 = "sha256", "crc32"


class CookieKeyError(ValueError):
    """A ``new_cookie_key`` is not a defuse key string (header, length or checksum wrong)."""


@dataclasses.dataclass(frozen=True)
class CookieKeys:
    """The three secrets of a shop's parameters.php that cookies and passwords use.

    :param new_cookie_key: defuse key string (``def00000…``, 136 hex characters).
    :param cookie_iv: the checksum salt, used as-is.
    :param cookie_key: the legacy md5 password salt.
    """

    new_cookie_key: str
    cookie_iv: str
    cookie_key: str = ""

    def __repr__(self) -> str:  # never print secrets in logs or tracebacks
        return "CookieKeys(…)"


# --- defuse v2 ---------------------------------------------------------------------------

def load_key(key_string: str) -> bytes:
    """The 32 raw key bytes of a defuse key string.

    :raises CookieKeyError: not hex, wrong length or header, or its checksum is wrong.
    """
    text = (key_string or "").rstrip()
    if len(text) != 136 or not _HEX_RE.match(text):
        raise CookieKeyError("new_cookie_key must be 136 hexadecimal characters")
    raw = bytes.fromhex(text)
    if raw[:4] != _KEY_HEADER:
        raise CookieKeyError("new_cookie_key has no defuse key header (def00000)")
    if not hmac.compare_digest(hashlib.sha256(raw[:36]).digest(), raw[36:]):
        raise CookieKeyError("new_cookie_key's checksum is wrong")
    return raw[4:36]


def make_key_string(raw_key: bytes | None = None) -> str:
    """A defuse key string for ``raw_key`` (32 bytes; random when omitted)."""
    raw_key = os.urandom(_KEY_BYTES) if raw_key is None else raw_key
    if len(raw_key) != _KEY_BYTES:
        raise CookieKeyError("a defuse key is 32 bytes")
    body = _KEY_HEADER + raw_key
    return (body + hashlib.sha256(body).digest()).hex()


def _derive(raw_key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(raw_key)


def _ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cryptor.update(data) + cryptor.finalize()


def encrypt(raw_key: bytes, plaintext: bytes, *, salt: bytes | None = None,
            iv: bytes | None = None) -> str:
    """Encrypt ``plaintext`` as defuse ``Crypto::encrypt`` does; lower-case hex."""
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    iv = os.urandom(_IV_BYTES) if iv is None else iv
    body = _CIPHERTEXT_HEADER + salt + iv + _ctr(_derive(raw_key, salt, _ENCRYPTION_INFO), iv,
                                                  plaintext)
    tag = hmac.new(_derive(raw_key, salt, _AUTH_INFO), body, hashlib.sha256).digest()
    return (body + tag).hex()


def decrypt(raw_key: bytes, value: str) -> bytes | None:
    """Decrypt a defuse hex ciphertext; ``None`` when it is malformed or not authentic.

    The MAC is checked, in constant time, before anything is decrypted.
    """
    try:
        if not isinstance(value, str) or len(value) % 2 or not _HEX_RE.match(value):
            return None
        data = bytes.fromhex(value)
        if len(data) < _MIN_CIPHERTEXT_BYTES or data[:4] != _CIPHERTEXT_HEADER:
            return None
        salt = data[4:36]
        body, tag = data[:-_MAC_BYTES], data[-_MAC_BYTES:]
        expected = hmac.new(_derive(raw_key, salt, _AUTH_INFO), body, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, tag):
            return None
        return _ctr(_derive(raw_key, salt, _ENCRYPTION_INFO), data[36:52], data[52:-_MAC_BYTES])
    except Exception:  # a cookie is untrusted input: nothing may escape
        return None


# --- content and checksum ----------------------------------------------------------------

def checksum(cookie_iv: str, pairs_text: str, algorithm: str = SHA256) -> str:
    """The checksum PrestaShop stores after the pairs (sha256 hex, or decimal crc32)."""
    data = (cookie_iv + pairs_text).encode("utf-8")
    if algorithm == CRC32:
        return str(zlib.crc32(data))
    return hashlib.sha256(data).hexdigest()


def algorithms_for(version: str | None) -> tuple[str, ...]:
    """The checksum algorithms a shop of ``version`` writes: crc32 before 1.7.7, sha256 after.

    An unknown version tries sha256 then crc32.
    """
    numbers = _version_tuple(version)
    if numbers is None:
        return (SHA256, CRC32)
    return (CRC32,) if numbers < (1, 7, 7) else (SHA256,)


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    parts = re.findall(r"\d+", version)
    return tuple(int(part) for part in parts[:4]) if parts else None


def serialise(values: Mapping[str, Any], cookie_iv: str, algorithm: str = SHA256) -> str:
    """The plaintext PrestaShop writes for ``values`` (in order), checksum last.

    :raises ValueError: a key or value contains ``|`` or ``¤`` (PrestaShop throws too).
    """
    pairs = []
    for key, value in values.items():
        if key == "checksum":
            continue
        key, text = php_string(key), php_string(value)
        if any(bad in part for part in (key, text) for bad in ("|", SEPARATOR)):
            raise ValueError(f"cookie key or value of {key!r} holds '|' or '¤'")
        pairs.append(f"{key}|{text}{SEPARATOR}")
    content = "".join(pairs)
    return content + "checksum|" + checksum(cookie_iv, content, algorithm)


def parse(plaintext: str, cookie_iv: str,
          algorithms_to_try: Iterable[str] = (SHA256, CRC32)) -> dict[str, str] | None:
    """The pairs of a plaintext whose checksum holds; ``None`` otherwise.

    As PrestaShop reads: split on ``¤``, drop the last element, hash the rest (plus one
    ``¤``) with ``cookie_iv``, keep every element that splits on ``|`` into exactly two.
    """
    parts = plaintext.split(SEPARATOR)
    content = SEPARATOR.join(parts[:-1]) + SEPARATOR
    values: dict[str, str] = {}
    for part in parts:
        fields = part.split("|")
        if len(fields) == 2:
            values[fields[0]] = fields[1]
    stored = values.pop("checksum", None)
    if stored is None:
        return None
    for algorithm in algorithms_to_try:
        if hmac.compare_digest(checksum(cookie_iv, content, algorithm).encode(),
                               stored.encode("utf-8")):
            return values
    return None


def encode(values: Mapping[str, Any], keys: CookieKeys, algorithm: str = SHA256) -> str:
    """The encrypted cookie value for ``values``.

    :raises CookieKeyError: ``keys.new_cookie_key`` is not a defuse key string.
    :raises ValueError: a key or value contains ``|`` or ``¤``.
    """
    plaintext = serialise(values, keys.cookie_iv, algorithm).encode("utf-8")
    return encrypt(load_key(keys.new_cookie_key), plaintext)


def decode(value: str, keys: CookieKeys, algorithms_to_try: Iterable[str] = (SHA256, CRC32),
           *, raw_key: bytes | None = None) -> dict[str, str] | None:
    """The pairs of a cookie value, or ``None`` when PrestaShop would find it empty.

    Oversized values are refused before any cryptography. Never raises.
    """
    try:
        if not isinstance(value, str) or len(value) > MAX_COOKIE_BYTES:
            return None
        if raw_key is None:
            raw_key = load_key(keys.new_cookie_key)
        plaintext = decrypt(raw_key, value)
        if plaintext is None:
            return None
        return parse(plaintext.decode("utf-8"), keys.cookie_iv, algorithms_to_try)
    except Exception:  # wrong key format, bad UTF-8, …: an empty cookie, as for PrestaShop
        return None


# --- names and domains -------------------------------------------------------------------

def split_host(host: str) -> str:
    """The host part of a ``Host`` header, without the port."""
    host = (host or "").strip()
    if host.startswith("["):  # [v6]:port
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0]


def request_host(headers: Mapping[str, str], version: str | None = None) -> str:
    """The host PrestaShop's Tools::getHttpHost sees: ``X-Forwarded-Host``, else ``Host``.

    PrestaShop 9 takes ``X-Forwarded-Host`` only when it is non-empty; 1.7.8 whenever it is
    sent, so an empty one gives an empty host there (8.x is read as 1.7.8). An unknown
    ``version`` reads as 9. Of a comma-separated list only the first entry is kept
    (PrestaShop would use the whole list, which no browser accepts as a cookie domain).
    """
    forwarded = headers.get("X-Forwarded-Host")
    if forwarded is not None and (forwarded.strip() or not is_version_9(version)):
        return forwarded.split(",")[0].strip()
    return (headers.get("Host") or "").strip()


def is_version_9(version: str | None) -> bool:
    """Whether ``version`` is PrestaShop 9 or later (an unknown version counts as 9)."""
    numbers = _version_tuple(version)
    return numbers is None or numbers >= (9,)


def cookie_domain(host: str, shared_urls: Iterable[str] = ()) -> str | None:
    """The domain PrestaShop's Cookie::getDomain gives for ``host`` (``None`` means false).

    IPv4 hosts and hosts without a dot give ``None`` (a host-only cookie). When the host
    (without port) is one of ``shared_urls``, the registrable domain with a leading dot.
    """
    bare = split_host(host)
    if not bare or _IPV4_RE.match(bare) or "." not in host:
        return None
    if bare in set(shared_urls):
        match = _SHARED_DOMAIN_RE.match(bare)
        if match:
            return "." + match.group(1)
    return bare


def cookie_name(version: str, name: str, domain: str | None) -> str:
    """``PrestaShop-`` + md5(version + name + domain), as every PrestaShop since 1.5 names it."""
    return NAME_PREFIX + hashlib.md5(
        (version + name + (domain or "")).encode("utf-8")).hexdigest()


def front_cookie_name(id_shop: int, id_shop_group: int | None = None,
                      share_order: bool = False) -> str:
    """The logical name of the storefront cookie: ``ps-s<id_shop>`` or ``ps-sg<id_group>``."""
    if share_order and id_shop_group is not None:
        return f"ps-sg{id_shop_group}"
    return f"ps-s{id_shop}"


def candidates(cookies: Mapping[str, str], names: Iterable[str] = (),
               limit: int = 16) -> list[tuple[str, str]]:
    """The cookies worth decrypting: those in ``names`` when any is present, else every
    ``PrestaShop-*`` cookie (at most ``limit``), skipping oversized ones. Never raises.
    """
    def fits(name: str, value: str) -> bool:
        size = len(name.encode("utf-8", "replace")) + len(value.encode("utf-8", "replace"))
        return size <= MAX_COOKIE_BYTES

    wanted = [name for name in dict.fromkeys(names) if name in cookies]
    chosen = wanted or [name for name in cookies if name.startswith(NAME_PREFIX)]
    return [(name, cookies[name]) for name in chosen[:limit] if fits(name, cookies[name])]


def is_back_office(values: Mapping[str, str]) -> bool:
    """Whether decoded pairs are a back-office (``psAdmin``) cookie."""
    return "id_employee" in values


# --- writing (demo and tests) ------------------------------------------------------------

def set_cookie(response: Any, name: str, value: str, *, domain: str | None, path: str = "/",
               secure: bool = False, samesite: str = "Lax", lifetime_hours: int = 480,
               now: dt.datetime | None = None) -> None:
    """Add the ``Set-Cookie`` header PrestaShop sends, on a Werkzeug/Flask ``response``.

    ``lifetime_hours`` 0 makes a session cookie; PrestaShop 8+ sends any SameSite value
    other than Lax or Strict as None (which browsers accept only with Secure).
    """
    if samesite not in ("Lax", "Strict"):
        samesite = "None"
    expires = None
    if lifetime_hours > 0:
        now = now or dt.datetime.now(dt.UTC)
        expires = now + dt.timedelta(hours=lifetime_hours)
    response.set_cookie(name, value, expires=expires, path=path or "/", domain=domain or None,
                        secure=secure, httponly=True, samesite=samesite)
