"""The Configuration page's data: the merchant's settings read and saved at the level of
the shop context, the posted form turned into changes, and the errors said per field.

Saving goes through :class:`~psonlinechat.shop.settings_store.SettingsStore` at every level
(``id_shop`` 0 is the global level, 0 with a group that group's level); its new revision
makes every worker read the settings again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from psonlinechat.errors import SettingsError
from psonlinechat.shop.settings import (
    COLOUR_FIELDS,
    OFFLINE_FIELDS,
    TEXT_FIELDS,
    ModuleSettings,
    all_keys,
    from_configuration,
)
from psonlinechat.shop.settings_store import SettingsStore
from psonlinechat.store import configuration
from psonlinechat.store.tables import Tables
from psonlinechat.web.admin.shop_context import Level
from psonlinechat.web.front.strings import DOMAIN as WIDGET_DOMAIN
from psonlinechat.web.front.strings import STRINGS as WIDGET_STRINGS
from psonlinechat.web.front.widget import asset_url
from psonlinechat.web.offline import HONEYPOT
from psonlinechat.web.translations import N_, translate_all

#: The message shown at each field when the settings refuse its value (translated later).
FIELD_ERRORS = {
    "operator_name": N_("Enter a name of 1 to 64 characters on one line."),
    "sounds": N_("Choose yes or no."),
    "offline_mode": N_("Choose yes or no."),
    "max_chats": N_("Enter a whole number from 1 to 100."),
    "notify_email": N_("Enter the email address that receives offline messages."),
    "header_text": N_("A header text is too long (100 characters at most)."),
    "welcome_text": N_("A welcome text is too long (1,000 characters at most)."),
    "offline_header_text": N_("A header text is too long (100 characters at most)."),
    "offline_welcome_text": N_("A welcome text is too long (1,000 characters at most)."),
    "offline_fields": N_("The message must be requested."),
    "colour": N_("Choose a colour written #rrggbb."),
}


def preview_state(base: str, iso: str, samples: Mapping[str, str]) -> dict[str, Any]:
    """What the previews' ``psonlinechatPreview`` starts from (docs/widget.md, "Preview
    mode"): the storefront's own digest-versioned assets under ``base``, the widget's strings
    in the employee's language ``iso`` and the sample messages; the page adds the texts,
    colours and fields as the merchant types.

    :raises OSError: the widget's assets are not installed.
    """
    return {"lang": iso, "assets": {"js": asset_url(base, "js", "widget.js"),
                                    "css": asset_url(base, "css", "widget.css")},
            "honeypot": HONEYPOT, "samples": dict(samples),
            "strings": translate_all(WIDGET_STRINGS, iso, WIDGET_DOMAIN)}


def read(conn: sa.Connection, t: Tables, level: Level) -> ModuleSettings:
    """The settings as they resolve at ``level`` (a shop: shop, group, global; a group:
    group, global; all shops: global)."""
    values = configuration.get_many(conn, t, [*all_keys(), "PS_LANG_DEFAULT"],
                                    level.id_shop, level.id_shop_group)
    return from_configuration(values)


def save(conn: sa.Connection, t: Tables, store: SettingsStore, level: Level,
         changes: Mapping[str, Any]) -> ModuleSettings:
    """Validate ``changes`` and write them at ``level`` in ``conn``'s transaction, then
    commit; on an error nothing is committed and the caller rolls back.

    :raises SettingsError: a value is invalid (nothing is written).
    :raises ShopError: the module is not installed, or the database failed.
    """
    group = level.id_shop_group if level.kind == "group" else None
    store.save(conn, t, level.id_shop or 0, changes, id_shop_group=group)
    conn.commit()
    return read(conn, t, level)


def _switch(form: Any, name: str) -> str:
    """A yes/no switch posted as a hidden ``0`` then, when ticked, a ``1``."""
    values = form.getlist(name)
    return values[-1] if values else "0"


def changes_from(form: Any, lang_ids: list[int]) -> dict[str, Any]:
    """The settings' changes a posted Configuration form asks for (not yet validated)."""
    changes: dict[str, Any] = {
        "operator_name": form.get("operator_name", ""),
        "sounds": _switch(form, "sounds"),
        "max_chats": form.get("max_chats", ""),
        "offline_mode": _switch(form, "offline_mode"),
        "notify_email": form.get("notify_email", ""),
    }
    for field in COLOUR_FIELDS:
        changes[field] = form.get(field, "")
    for field in TEXT_FIELDS:
        changes[field] = {id_lang: form.get(f"{field}[{id_lang}]", "") for id_lang in lang_ids}
    fields = {}
    for name in OFFLINE_FIELDS:
        required = form.get(f"offline_required[{name}]") == "1"
        requested = required or form.get(f"offline_requested[{name}]") == "1"
        fields[name] = "required" if required else "requested" if requested else "hidden"
    changes["offline_fields"] = fields
    return changes


def field_errors(error: SettingsError, gettext: Any) -> dict[str, str]:
    """``{field: message}`` in the employee's language for what ``error`` refused."""
    out = {}
    for field in error.errors:
        key = "colour" if field in COLOUR_FIELDS else field
        out[field] = gettext(FIELD_ERRORS.get(key, N_("This value is not valid.")))
    return out


def posted_settings(changes: Mapping[str, Any], base: ModuleSettings) -> ModuleSettings:
    """The form's values as settings, to show again after a refused Save (a value that
    does not fit its field's type, such as ``max_chats``, is kept as it was typed)."""
    values = dict(changes)
    values["sounds"] = changes.get("sounds") == "1"
    values["offline_mode"] = changes.get("offline_mode") == "1"
    return dataclasses.replace(base, **values)
