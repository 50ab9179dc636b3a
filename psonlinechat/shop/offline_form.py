"""The offline form's rules: what a visitor's post must hold, as the merchant set it.

Pure functions, shared by the endpoint and (in the same words) the widget. A field the
merchant left ``hidden`` is ignored; a ``requested`` one may stay empty; a ``required`` one
may not (required implies requested). Control characters are stripped (a message keeps its
line breaks and tabs); a line break in a one-line field is refused, so nothing a visitor
types can become a mail header. A signed-in customer's known name and email fill the
fields they left empty.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from psonlinechat.shop.identity import Visitor
from psonlinechat.shop.settings import OFFLINE_FIELDS, ModuleSettings

#: The longest value of each field, in characters.
LIMITS = {"firstname": 100, "lastname": 100, "email": 254, "phone": 32, "message": 5000}
#: The longest page address kept with a message.
PAGE_URL_LIMIT = 2048
_EMAIL_RE = re.compile(r"^[^@\s<>()\[\]\\,;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
                       r"\.[A-Za-z0-9-]{2,}$")
_PHONE_RE = re.compile(r"^[0-9+()./ -]+$")
#: The email and phone rules as pattern text, for the widget to check with the same rules.
PATTERNS = {"email": _EMAIL_RE.pattern, "phone": _PHONE_RE.pattern}
_KEEP_IN_MESSAGE = {"\n", "\t"}
#: Error codes, so the widget shows them in the visitor's language.
REQUIRED, TOO_LONG, ONE_LINE, NOT_EMAIL, NOT_PHONE, NOT_TEXT = (
    "required", "too_long", "one_line", "invalid_email", "invalid_phone", "not_text")


@dataclasses.dataclass(frozen=True)
class CheckedForm:
    """A post checked against the merchant's form.

    :param values: every field (``""`` when hidden or left empty), clean.
    :param errors: field → error code (see the module's constants); empty when valid.
    """

    values: dict[str, str]
    errors: dict[str, str]

    @property
    def valid(self) -> bool:
        return not self.errors


def clean_text(value: str, *, multiline: bool) -> str:
    """``value`` without control characters (line breaks and tabs kept when ``multiline``,
    ``\\r\\n`` made ``\\n``), trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    keep = _KEEP_IN_MESSAGE if multiline else set()
    return "".join(ch for ch in value
                   if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def check(post: Mapping[str, Any], settings: ModuleSettings,
          visitor: Visitor | None = None) -> CheckedForm:
    """Check a visitor's post against ``settings.offline_fields``.

    :param post: the fields as sent (strings; anything else is refused per field).
    :param visitor: fills a signed-in customer's empty name and email fields.
    """
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    known = known_values(visitor)
    for field in OFFLINE_FIELDS:
        state = field_state(settings, field)
        if state == "hidden":
            values[field] = ""
            continue
        raw = post.get(field, "")
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            values[field], errors[field] = "", NOT_TEXT
            continue
        value, error = _field(field, raw)
        if not value and error is None:
            value = known.get(field, "")
        values[field] = value
        if error is None and state == "required" and not value:
            error = REQUIRED
        if error is not None:
            errors[field] = error
    return CheckedForm(values, errors)


def field_state(settings: ModuleSettings, field: str) -> str:
    """How the merchant's form asks for ``field``: ``"required"``, ``"requested"`` or
    ``"hidden"`` (the message is always required)."""
    return "required" if field == "message" else settings.offline_fields.get(field, "hidden")


def known_values(visitor: Visitor | None) -> dict[str, str]:
    """A signed-in customer's known name and email, clean and within the fields' limits
    (none for a guest)."""
    if visitor is None or not visitor.signed_in:
        return {}
    known = {"firstname": visitor.firstname, "lastname": visitor.lastname,
             "email": visitor.email}
    return {k: clean_text(v, multiline=False)[:LIMITS[k]] for k, v in known.items() if v}


def _field(field: str, raw: str) -> tuple[str, str | None]:
    """The clean value of one field and its error code, if any."""
    multiline = field == "message"
    if not multiline and ("\n" in raw or "\r" in raw):
        return "", ONE_LINE
    value = clean_text(raw, multiline=multiline)
    if len(value) > LIMITS[field]:
        return value[:LIMITS[field]], TOO_LONG
    if value and field == "email" and not _EMAIL_RE.match(value):
        return value, NOT_EMAIL
    if value and field == "phone" and not _PHONE_RE.match(value):
        return value, NOT_PHONE
    return value, None


def page_url(raw: Any) -> str:
    """The page a message was left from, kept only when it is an http(s) address."""
    if not isinstance(raw, str):
        return ""
    value = clean_text(raw, multiline=False)
    if not re.match(r"^https?://", value, re.I) or any(ch.isspace() for ch in value):
        return ""
    return value[:PAGE_URL_LIMIT]
