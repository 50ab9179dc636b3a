"""The merchant's settings of the module, stored in the shop's ``configuration`` table.

Keys are ``PSONLINECHAT_*`` configuration rows, read and written PrestaShop's way (shop,
then group, then global; multilingual texts in ``configuration_lang``; see
:mod:`psonlinechat.store.configuration`). The chat texts are written as HTML values
so that their line breaks survive (PrestaShop strips newlines from other values): they are
plain text all the same, and every template escapes them.

This module holds the settings' fields and their rules (pure functions);
:mod:`psonlinechat.shop.settings_store` reads and saves them with a process cache.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from psonlinechat.config import parse_switch
from psonlinechat.errors import SettingsError
from psonlinechat.prestashop.php import ascii_digits
from psonlinechat.store import configuration

KEY_PREFIX = "PSONLINECHAT_"
OFFLINE_FIELDS = ("firstname", "lastname", "email", "phone", "message")
FIELD_STATES = ("hidden", "requested", "required")
COLOUR_FIELDS = ("header_background", "header_color", "operator_background", "operator_color",
                 "customer_background", "customer_color", "offline_header_background",
                 "offline_header_color")
#: Multilingual texts and their longest length in characters.
TEXT_FIELDS = {"header_text": 100, "welcome_text": 1000, "offline_header_text": 100,
               "offline_welcome_text": 1000}
MAX_CHATS_RANGE = (1, 100)
_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")


@dataclasses.dataclass(frozen=True)
class ModuleSettings:
    """What the merchant set in the Configuration tab, for one shop.

    Multilingual texts map ``id_lang`` to the text. Instances may be shared from a cache:
    treat them (and their dicts) as read-only; use :func:`dataclasses.replace` for a copy.
    """

    operator_name: str = "Customer service"
    sounds: bool = True
    max_chats: int = 10
    offline_mode: bool = True
    notify_email: str = ""
    header_text: dict[int, str] = dataclasses.field(default_factory=dict)
    welcome_text: dict[int, str] = dataclasses.field(default_factory=dict)
    offline_header_text: dict[int, str] = dataclasses.field(default_factory=dict)
    offline_welcome_text: dict[int, str] = dataclasses.field(default_factory=dict)
    header_background: str = "#2c3e50"
    header_color: str = "#ffffff"
    operator_background: str = "#e8eef5"
    operator_color: str = "#1f2d3d"
    customer_background: str = "#2563eb"
    customer_color: str = "#ffffff"
    offline_header_background: str = "#5a6270"
    offline_header_color: str = "#ffffff"
    #: Offline form fields: name → "hidden" / "requested" / "required".
    offline_fields: dict[str, str] = dataclasses.field(default_factory=lambda: {
        "firstname": "requested", "lastname": "requested", "email": "required",
        "phone": "hidden", "message": "required"})
    #: The shop's default language (``PS_LANG_DEFAULT``), the fallback of :meth:`text`.
    default_lang: int | None = None

    def text(self, name: str, id_lang: int) -> str:
        """The text ``name`` (e.g. ``"welcome_text"``) in ``id_lang``, else in the default
        language."""
        texts: dict[int, str] = getattr(self, name)
        return texts.get(id_lang) or texts.get(self.default_lang or 0) or ""


def key_name(field: str) -> str:
    """The configuration key of a plain field, e.g. ``max_chats`` → ``PSONLINECHAT_MAX_CHATS``."""
    return KEY_PREFIX + field.upper()


def offline_field_key(field: str) -> str:
    """The configuration key of one offline form field's state."""
    return KEY_PREFIX + "OFFLINE_FIELD_" + field.upper()


_PLAIN_FIELDS = ("operator_name", "sounds", "max_chats", "offline_mode", "notify_email",
                 *COLOUR_FIELDS)
_BOOL_FIELDS = {"sounds", "offline_mode"}
EDITABLE_FIELDS = (*_PLAIN_FIELDS, *TEXT_FIELDS, "offline_fields")


def all_keys() -> list[str]:
    """Every configuration key the module owns."""
    return ([key_name(f) for f in _PLAIN_FIELDS] + [key_name(f) for f in TEXT_FIELDS]
            + [offline_field_key(f) for f in OFFLINE_FIELDS])


def from_configuration(values: Mapping[str, Any]) -> ModuleSettings:
    """Build settings from resolved configuration values; what is missing keeps its default."""
    default = ModuleSettings()
    found: dict[str, Any] = {}
    for field in _PLAIN_FIELDS:
        raw = values.get(key_name(field))
        if not isinstance(raw, str):
            continue
        if field in _BOOL_FIELDS:
            found[field] = configuration.as_bool(raw)
        elif field == "max_chats":
            number = ascii_digits(raw)
            found[field] = default.max_chats if number is None else number
        else:
            found[field] = raw
    for field in TEXT_FIELDS:
        raw = values.get(key_name(field))
        if isinstance(raw, dict):
            found[field] = dict(raw)
    fields = dict(default.offline_fields)
    for field in OFFLINE_FIELDS:
        raw = values.get(offline_field_key(field))
        if raw in FIELD_STATES:
            fields[field] = raw
    found["offline_fields"] = fields
    lang = values.get("PS_LANG_DEFAULT")
    id_lang = ascii_digits(lang) if isinstance(lang, str) else None
    if id_lang is not None:
        found["default_lang"] = id_lang
    return ModuleSettings(**found)


def _as_bool(field: str, value: Any, errors: dict[str, str]) -> bool | None:
    switch = parse_switch(value)
    if switch is None:
        errors[field] = f"must be on or off, not {value!r}"
    return switch


def validate(changes: Mapping[str, Any], *,
             current: ModuleSettings | None = None) -> dict[str, Any]:
    """Check and normalise the fields in ``changes``; returns the clean values.

    :param current: the settings being changed, to check rules across fields (a notify
        address is needed while offline mode is on).
    :raises SettingsError: listing every field that is unknown or invalid.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in EDITABLE_FIELDS:
            errors[field] = "is not a setting of the module"
        else:
            clean[field] = _checked(field, value, errors)
    merged = dataclasses.replace(current or ModuleSettings(),
                                 **{k: v for k, v in clean.items() if k not in errors})
    if (("notify_email" in clean or "offline_mode" in clean) and "notify_email" not in errors
            and merged.offline_mode and not merged.notify_email):
        errors["notify_email"] = "is needed while offline mode is on"
    if errors:
        raise SettingsError(errors)
    return clean


def _checked(field: str, value: Any, errors: dict[str, str]) -> Any:
    """``value`` of the editable ``field``, normalised; what is wrong goes to ``errors``."""
    if field in _BOOL_FIELDS:
        return _as_bool(field, value, errors)
    if field == "max_chats":
        return _max_chats(field, value, errors)
    if field == "operator_name":
        return _operator_name(field, value, errors)
    if field == "notify_email":
        return _notify_email(field, value, errors)
    if field in COLOUR_FIELDS:
        return _colour(field, value, errors)
    if field in TEXT_FIELDS:
        return _texts(field, value, errors)
    return _offline_fields(value, errors)


def _max_chats(field: str, value: Any, errors: dict[str, str]) -> int | None:
    low, high = MAX_CHATS_RANGE
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        errors[field] = f"must be a whole number from {low} to {high}, not {value!r}"
    return number


def _operator_name(field: str, value: Any, errors: dict[str, str]) -> str:
    text = str(value).strip() if isinstance(value, str) else ""
    if not text or len(text) > 64 or "\n" in text or "\r" in text:
        errors[field] = "must be one line of 1 to 64 characters"
    return text


def _notify_email(field: str, value: Any, errors: dict[str, str]) -> str:
    text = str(value).strip() if isinstance(value, str) else ""
    if text and (len(text) > 255 or not _EMAIL_RE.match(text)):
        errors[field] = f"{text!r} is not an email address"
    return text


def _colour(field: str, value: Any, errors: dict[str, str]) -> str | None:
    if not isinstance(value, str) or not _COLOUR_RE.match(value.strip()):
        errors[field] = f"must be a colour written #rrggbb, not {value!r}"
        return None
    return value.strip().lower()


def _texts(field: str, value: Any, errors: dict[str, str]) -> dict[int, str]:
    limit = TEXT_FIELDS[field]
    if not isinstance(value, Mapping):
        errors[field] = "must map each language id to its text"
        return {}
    out: dict[int, str] = {}
    for lang, text in value.items():
        try:
            id_lang = int(lang)
        except (TypeError, ValueError):
            errors[field] = f"{lang!r} is not a language id"
            continue
        if not isinstance(text, str):
            errors[field] = f"the text for language {id_lang} must be a string"
            continue
        text = text.replace("\r\n", "\n").strip()
        if len(text) > limit:
            errors[field] = f"the text for language {id_lang} is longer than {limit} characters"
        out[id_lang] = text
    return out


def _offline_fields(value: Any, errors: dict[str, str]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        errors["offline_fields"] = "must map each form field to hidden, requested or required"
        return {}
    out: dict[str, str] = {}
    for name, state in value.items():
        if name not in OFFLINE_FIELDS:
            errors["offline_fields"] = f"{name!r} is not a field of the offline form"
        elif state not in FIELD_STATES:
            errors["offline_fields"] = (f"{name} must be hidden, requested or required, "
                                        f"not {state!r}")
        else:
            out[name] = state
    if out.get("message") == "hidden":
        errors["offline_fields"] = "the message field cannot be hidden"
    return out


def to_configuration(clean: Mapping[str, Any]) -> dict[str, Any]:
    """Configuration writes for validated fields: ``{key: value}`` (texts as
    ``{id_lang: text}``)."""
    writes: dict[str, Any] = {}
    for field, value in clean.items():
        if field == "offline_fields":
            writes.update({offline_field_key(name): state for name, state in value.items()})
        else:
            writes[key_name(field)] = value
    return writes
