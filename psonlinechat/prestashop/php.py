"""PHP's rules where PrestaShop's values cross into Python."""

from __future__ import annotations

from typing import Any


def php_string(value: Any) -> str:
    """``value`` as PHP's ``(string)`` casts it: ``null`` and ``false`` give ``""``,
    ``true`` gives ``"1"``, anything else its ``str``."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    return str(value)
