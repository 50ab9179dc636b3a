"""Deployment settings: the ``PSONLINECHAT_*`` keys of the host app's config.

These say *where* the shop is and *how* the bridge runs. What the merchant edits in the
back office (operator name, colours, texts) lives in the shop's ``configuration`` table
instead (see :mod:`psonlinechat.shop.settings`).

Every key is declared once in :data:`KEYS`; the README's table is checked against it by
the test suite. :func:`load` reads them all at start-up and raises :class:`ConfigError`,
naming the key, when one is missing or malformed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from psonlinechat.errors import ConfigError
from psonlinechat.prestashop import parameters
from psonlinechat.prestashop.cookies import CookieKeyError, load_key

_PREFIX_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
_INT_RE = re.compile(r"[0-9]{1,9}")


def validate_table_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can safely stand in front of a table name.

    :raises ConfigError: it holds anything but letters, digits and ``_`` or is too long.
    """
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
        raise ConfigError(
            "PSONLINECHAT_TABLE_PREFIX",
            f"{prefix!r} is not a table prefix: use 1 to 32 letters, digits or '_'",
        )
    return prefix


@dataclasses.dataclass(frozen=True)
class Key:
    """One ``PSONLINECHAT_*`` key: its type, its default and what it means."""

    name: str
    kind: str  # "str", "int", "float", "path", "url", "list"
    default: Any
    doc: str

    @property
    def config_name(self) -> str:
        return "PSONLINECHAT_" + self.name


#: Every deployment key. ``None`` as a default means "not set".
KEYS: tuple[Key, ...] = (
    Key("URL_PREFIX", "str", "/psonlinechat", "Where the blueprint is mounted."),
    Key("PRESTASHOP_ROOT", "path", None,
        "The shop's folder; database, table prefix and cookie keys are read from its "
        "`app/config/parameters.php`."),
    Key("DATABASE_URL", "url", None,
        "SQLAlchemy URL of the shop's database, e.g. `mysql+pymysql://user:pw@host/shop`. "
        "Overrides what parameters.php says."),
    Key("TABLE_PREFIX", "str", None,
        "The shop's table prefix (`ps_` when neither this nor parameters.php says)."),
    Key("COOKIE_KEY", "str", None, "PrestaShop's `cookie_key` (legacy md5 passwords)."),
    Key("NEW_COOKIE_KEY", "str", None,
        "PrestaShop's `new_cookie_key`, the defuse key that encrypts the shop's cookies."),
    Key("COOKIE_IV", "str", None, "PrestaShop's `cookie_iv`, which salts cookie checksums."),
    Key("PRESTASHOP_VERSION", "str", None,
        "The shop's `_PS_VERSION_`, used in cookie names; when unset, `PS_VERSION_DB` "
        "is read and every `PrestaShop-*` cookie is tried."),
    Key("SECRET_KEY", "str", None,
        "Signs visitors' resume tokens; the same on every worker and host. Defaults to the "
        "app's `SECRET_KEY`, else a key derived from NEW_COOKIE_KEY."),
    Key("ADMIN_LOGIN_URL", "str", None,
        "Where pages send an employee who is not signed in (the shop's back-office login)."),
    Key("ALLOWED_ORIGINS", "list", (),
        "Extra origins allowed to open sockets, beyond the shop's own `shop_url` hosts "
        "(comma-separated, e.g. `https://www.example.com`)."),
    Key("REDIS_URL", "url", None,
        "Redis for fan-out between workers and hosts, and for the offline form's "
        "per-address limit; required past one worker (presence and capacity stay in the "
        "database)."),
    Key("POOL_SIZE", "int", 10, "Database connections kept per worker."),
    Key("POOL_RECYCLE", "int", 3600, "Seconds after which a pooled connection is renewed."),
    Key("MAX_MESSAGE_LENGTH", "int", 2000, "Longest chat message, in characters."),
    Key("RATE_LIMIT", "int", 20, "Messages one socket may send in RATE_WINDOW seconds."),
    Key("RATE_WINDOW", "float", 10.0, "The window of RATE_LIMIT, in seconds."),
    Key("HEARTBEAT_SECONDS", "float", 25.0,
        "How often sockets are pinged; one silent for two beats is closed."),
    Key("OPERATOR_GRACE_SECONDS", "float", 30.0,
        "How long an operator whose last socket closed stays online."),
)
KEYS_BY_NAME = {key.name: key for key in KEYS}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated deployment settings of one app."""

    url_prefix: str = "/psonlinechat"
    prestashop_root: str | None = None
    database_url: str | None = None
    table_prefix: str = "ps_"
    cookie_key: str | None = None
    new_cookie_key: str | None = None
    cookie_iv: str | None = None
    prestashop_version: str | None = None
    secret_key: str | None = None
    admin_login_url: str | None = None
    allowed_origins: tuple[str, ...] = ()
    redis_url: str | None = None
    pool_size: int = 10
    pool_recycle: int = 3600
    max_message_length: int = 2000
    rate_limit: int = 20
    rate_window: float = 10.0
    heartbeat_seconds: float = 25.0
    operator_grace_seconds: float = 30.0

    def token_secret(self) -> str:
        """The secret resume tokens are signed with: ``secret_key``, else one derived from
        the shop's ``new_cookie_key`` (a labelled HMAC, so the cookie key itself never signs
        anything of ours).

        :raises ConfigError: neither is set.
        """
        if self.secret_key:
            return self.secret_key
        if self.new_cookie_key:
            return hmac.new(self.new_cookie_key.encode(), b"psonlinechat resume tokens",
                            hashlib.sha256).hexdigest()
        raise ConfigError("PSONLINECHAT_SECRET_KEY",
                          "is required to sign visitors' resume tokens (or set the app's "
                          "SECRET_KEY, or PSONLINECHAT_NEW_COOKIE_KEY)")


def _as_str(key: Key, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key.config_name, "must be a non-empty string")
    return value.strip()


def _as_int(key: Key, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(key.config_name, f"must be a whole number, not {value!r}")
    text = str(value).strip()
    if not _INT_RE.fullmatch(text):
        raise ConfigError(key.config_name, f"must be a whole number, not {value!r}")
    number = int(text)
    if number < 1:
        raise ConfigError(key.config_name, f"must be at least 1, not {number}")
    return number


def _as_float(key: Key, value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConfigError(key.config_name, f"must be a number, not {value!r}") from None
    if not (number > 0 and math.isfinite(number)):
        raise ConfigError(key.config_name, f"must be a finite number above 0, not {number}")
    return number


def parse_switch(value: Any) -> bool | None:
    """``value`` as on/off (``1 true yes on`` / ``0 false no off`` and empty), else ``None``."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    return None


def _as_url(key: Key, value: Any) -> str:
    text = _as_str(key, value)
    try:
        scheme = urllib.parse.urlsplit(text).scheme
    except ValueError as exc:
        raise ConfigError(key.config_name, f"{text!r} is not a URL: {exc}") from None
    if not scheme or "://" not in text:
        raise ConfigError(key.config_name, f"{text!r} is not a URL (scheme://…)")
    return text


def _as_list(key: Key, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = [str(part).strip() for part in value]
    else:
        raise ConfigError(key.config_name, "must be a list or a comma-separated string")
    return tuple(item for item in items if item)


_PARSERS: dict[str, Callable[[Key, Any], Any]] = {
    "str": _as_str, "path": _as_str, "url": _as_url, "int": _as_int,
    "float": _as_float, "list": _as_list,
}


def load(
    config: Mapping[str, Any], *, shop_parameters: Mapping[str, str] | None = None
) -> Settings:
    """Validate the ``PSONLINECHAT_*`` keys of ``config`` into :class:`Settings`.

    Values read from the shop's parameters.php (``shop_parameters``: ``database_url``,
    ``table_prefix``, ``cookie_key``, ``new_cookie_key``, ``cookie_iv``) fill the keys the
    config leaves unset.

    :raises ConfigError: a key is malformed, or no database is given at all.
    """
    values: dict[str, Any] = {}
    for key in KEYS:
        raw = config.get(key.config_name)
        if raw is None:
            continue
        values[key.name.lower()] = _PARSERS[key.kind](key, raw)
    for name, value in (shop_parameters or {}).items():
        if value not in (None, ""):
            values.setdefault(name, value)
    if not values.get("database_url"):
        raise ConfigError(
            "PSONLINECHAT_DATABASE_URL",
            "is required (or set PSONLINECHAT_PRESTASHOP_ROOT to the shop's folder)",
        )
    values["table_prefix"] = validate_table_prefix(values.get("table_prefix", "ps_"))
    if values.get("new_cookie_key"):
        try:
            load_key(values["new_cookie_key"])
        except CookieKeyError as exc:
            raise ConfigError("PSONLINECHAT_NEW_COOKIE_KEY", f"is unusable: {exc}") from None
    prefix = values.get("url_prefix", "/psonlinechat")
    if not prefix.startswith("/") or prefix.endswith("/") and prefix != "/":
        raise ConfigError(
            "PSONLINECHAT_URL_PREFIX", f"{prefix!r} must start with '/' and not end with one"
        )
    return Settings(**values)


def from_mapping(config: Mapping[str, Any]) -> Settings:
    """The settings of a host app's config (or of :func:`from_environ`): the one path the
    extension, the console commands and ``serve`` validate their settings by. Reads the
    shop's parameters.php when ``PSONLINECHAT_PRESTASHOP_ROOT`` is set; the app's
    ``SECRET_KEY`` stands in for an unset ``PSONLINECHAT_SECRET_KEY``.

    :raises ConfigError: a setting is missing or malformed, or parameters.php is unreadable.
    """
    root = config.get("PSONLINECHAT_PRESTASHOP_ROOT")
    shop_parameters = parameters.read(root).as_settings() if root else None
    app_secret = config.get("SECRET_KEY")
    if config.get("PSONLINECHAT_SECRET_KEY") is None and app_secret:
        config = {**config, "PSONLINECHAT_SECRET_KEY":
                  app_secret.hex() if isinstance(app_secret, bytes) else app_secret}
    return load(config, shop_parameters=shop_parameters)


def from_environ(environ: Mapping[str, str] | None = None,
                 **overrides: str | None) -> dict[str, str]:
    """The ``PSONLINECHAT_*`` keys set in ``environ`` (default: the process environment),
    then ``overrides`` (key names without the prefix, lower case; ``None`` skips one).

    Only the keys :data:`KEYS` declares are read; empty values count as unset.
    """
    environ = os.environ if environ is None else environ
    values = {key.config_name: environ[key.config_name] for key in KEYS
              if environ.get(key.config_name) not in (None, "")}
    for name, value in overrides.items():
        if value:
            values["PSONLINECHAT_" + name.upper()] = value
    return values
