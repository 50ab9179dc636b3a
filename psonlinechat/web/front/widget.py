"""The storefront widget's fragments and the state its script starts from (docs/widget.md).

:func:`footer` is the ``displayFooter`` fragment: the server-rendered launcher inside a
declarative shadow root, the state as JSON, and the inline loader (``views/js/loader.js``).
:func:`header` is the ``displayHeader`` fragment: the host element's few lines of CSS.
:func:`widget_state` builds the state from a :class:`~psonlinechat.hookspecs.HookContext`:
the merchant's texts in the visitor's language, the colours (made readable), the availability, the
offline form's fields with what is known of a signed-in customer, the server's own rules
and the widget's strings.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any

from markupsafe import Markup

from psonlinechat.hookspecs import HookContext
from psonlinechat.shop import offline_form
from psonlinechat.shop.identity import Visitor
from psonlinechat.shop.settings import OFFLINE_FIELDS, ModuleSettings
from psonlinechat.web.blueprint import views_path
from psonlinechat.web.front import availability
from psonlinechat.web.front.colours import colours
from psonlinechat.web.front.strings import DOMAIN, STRINGS
from psonlinechat.web.offline import HONEYPOT
from psonlinechat.web.state import ChatState
from psonlinechat.web.translations import translate_all

#: The version of the state's shape (``v``), bumped when a field changes meaning.
STATE_VERSION = 1
HEADER_TEMPLATE = "psonlinechat/hook/header.html"
FOOTER_TEMPLATE = "psonlinechat/hook/footer.html"
#: The request header asking for the whole footer fragment while nobody can chat.
RESUME_HEADER = "X-Psonlinechat-Resume"
#: What must not appear raw inside an inline ``<script>``: escaped as JSON allows.
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                  "\u2028": "\\u2028", "\u2029": "\\u2029"}


@functools.lru_cache(maxsize=8)
def _digest(folder: str, name: str) -> str:
    """The first 12 hex digits of the sha256 of an asset (read once per process)."""
    with open(f"{views_path()}/{folder}/{name}", "rb") as asset:
        return hashlib.sha256(asset.read()).hexdigest()[:12]


def asset_url(base: str, folder: str, name: str) -> str:
    """The URL of one of the widget's assets under the blueprint at ``base``, versioned by
    its digest.

    :raises OSError: the asset is not installed.
    """
    return f"{base}/assets/{folder}/{name}?v={_digest(folder, name)}"


@functools.lru_cache(maxsize=1)
def loader_source() -> Markup:
    """``views/js/loader.js``, inlined in the footer fragment (read once per process).

    :raises OSError: the loader is not installed.
    :raises ValueError: the loader holds ``</`` (it would end its ``<script>`` element).
    """
    with open(f"{views_path()}/js/loader.js", encoding="utf-8") as source:
        text = source.read()
    if "</" in text:
        raise ValueError("views/js/loader.js must not contain '</'")
    return Markup(text)


def script_json(value: Any) -> Markup:
    """``value`` as JSON safe inside ``<script type="application/json">``: no ``<``, ``>``
    or ``&`` survive raw, so no text (a merchant's ``</script>``) can end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_UNSAFE[m.group()], text))


def fields(settings: ModuleSettings, visitor: Visitor) -> list[dict[str, str]]:
    """The offline form's fields the merchant asked for, in order, with the signed-in
    customer's known name and email as values."""
    known = offline_form.known_values(visitor)
    return [{"name": name, "state": state, "value": known.get(name, "")}
            for name in OFFLINE_FIELDS
            if (state := offline_form.field_state(settings, name)) != "hidden"]


def storage_key(visitor: Visitor) -> str:
    """The ``sessionStorage`` key of the visitor's conversation in progress (per shop)."""
    return f"psonlinechat:{visitor.id_shop}"


def base_url(context: HookContext) -> str:
    """Where the blueprint answers, as a path: the app's mount point and its prefix."""
    return context.request.script_root + context.shop.settings.url_prefix


def widget_state(context: HookContext, settings: ModuleSettings, visitor: Visitor,
                 iso: str, state: str) -> dict[str, Any]:
    """The state the widget's script starts from (docs/widget.md, "The state")."""
    base, id_lang = base_url(context), visitor.id_lang
    return {
        "v": STATE_VERSION, "lang": iso, "availability": state,
        "socket": f"{base}/ws/visitor", "offline_url": f"{base}/offline",
        "assets": {"js": asset_url(base, "js", "widget.js"),
                   "css": asset_url(base, "css", "widget.css")},
        "storage_key": storage_key(visitor),
        "texts": {"header": settings.text("header_text", id_lang),
                  "welcome": settings.text("welcome_text", id_lang),
                  "offline_header": settings.text("offline_header_text", id_lang),
                  "offline_welcome": settings.text("offline_welcome_text", id_lang)},
        "operator_name": settings.operator_name, "sounds": settings.sounds,
        "colours": colours(settings),
        "fields": fields(settings, visitor),
        "limits": {**offline_form.LIMITS,
                   "chat_message": context.shop.settings.max_message_length},
        "patterns": offline_form.PATTERNS,
        "honeypot": HONEYPOT,
        "strings": translate_all(STRINGS, iso, DOMAIN),
    }


def footer(context: HookContext) -> str | None:
    """The ``displayFooter`` fragment: launcher, state and loader; ``None`` without the
    app's state.

    When nobody can chat and offline mode is off there is no launcher: the fragment is
    only a few bytes of script that, for a tab holding a conversation in progress (its
    key in ``sessionStorage``), asks ``GET <prefix>/hook/displayFooter`` with the
    :data:`RESUME_HEADER` for the whole fragment, launcher hidden, so that the visitor
    keeps their conversation from page to page.

    :raises ShopError: the shop's database is out of reach.
    """
    chat_state = context.chat_state
    if not isinstance(chat_state, ChatState):
        return None
    visitor = context.visitor
    now = availability.storefront_availability(chat_state, visitor.id_shop)
    unavailable = now == availability.UNAVAILABLE
    if unavailable and context.request.headers.get(RESUME_HEADER) != "1":
        resume = {"key": storage_key(visitor), "url": f"{base_url(context)}/hook/displayFooter",
                  "header": RESUME_HEADER}
        return context.render(FOOTER_TEMPLATE, resume=script_json(resume))
    with context.shop.connect() as conn:
        settings = context.shop.module_settings(conn, visitor.id_shop)
    iso = context.shop.language_iso(visitor.id_lang, visitor.id_shop)
    state = widget_state(context, settings, visitor, iso, now)
    style = ";".join(f"--psc-{name.replace('_', '-')}:{value}"
                     for name, value in state["colours"].items())
    return context.render(FOOTER_TEMPLATE, state_json=script_json(state),
                          style=style, hidden=unavailable,
                          loader=loader_source(), t=state["strings"])


def header(context: HookContext) -> str:
    """The ``displayHeader`` fragment: the widget host's CSS (fixed in a corner, never
    printed). Static: no query."""
    return context.render(HEADER_TEMPLATE)
