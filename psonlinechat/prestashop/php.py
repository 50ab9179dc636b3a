"""PHP's rules where PrestaShop's values cross into Python."""

from __future__ import annotations

import re
from typing import Any


def php_string(value: Any) -> str:
    """``value`` as PHP's ``(string)`` casts it: ``null`` and ``false`` give ``""``,
    ``true`` gives ``"1"``, anything else its ``str``."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    return str(value)


_INT_RE = re.compile(r"^\s*([+-]?[0-9]+)")


def php_int(value: Any) -> int:
    """PHP's (int) cast of a string: its leading digits (with a sign), else 0."""
    match = _INT_RE.match(str(value or ""))
    return int(match.group(1)) if match else 0


_DIGITS_RE = re.compile(r"[0-9]+")


def ascii_digits(value: str) -> int | None:
    """``value`` (stripped) as a whole number when it is ASCII digits only, else ``None``.

    ``str.isdigit`` also takes ``'²'`` or ``'３'``, which ``int()`` then refuses or reads
    otherwise; a number from a request, a header or the shop's tables goes through here.
    """
    text = value.strip()
    return int(text) if _DIGITS_RE.fullmatch(text) else None
