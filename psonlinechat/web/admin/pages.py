"""The "Online Chat" tab of the back office: its pages, blueprint views under the prefix
(``<prefix>/admin/...``), for a signed-in employee who may serve at least one shop.

- ``admin/`` — the tab: the getting-started recap on the first visit after install, the
  Configuration page afterwards;
- ``admin/configuration`` — one form, one Save (:mod:`.configuration`);
- ``admin/history`` — archived conversations (:mod:`.history`);
- ``admin/help``, ``admin/faq``, ``admin/contact`` (:mod:`.help`).

Every change is a POST carrying the page's CSRF token (:mod:`.csrf`). Strings come from the
``admin`` Babel catalogue in the employee's language (:mod:`.locale`). A shop proxy links
these pages from its back-office menu.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for

from psonlinechat.errors import SettingsError
from psonlinechat.shop.identity import Employee
from psonlinechat.shop.settings import COLOUR_FIELDS, OFFLINE_FIELDS, ModuleSettings
from psonlinechat.store import configuration as configuration_store
from psonlinechat.store import module, shop_tree
from psonlinechat.web.access import require_employee
from psonlinechat.web.admin import configuration, csrf, help, history
from psonlinechat.web.admin import locale as admin_locale
from psonlinechat.web.admin.shop_context import ShopContext, resolve
from psonlinechat.web.state import ChatState
from psonlinechat.web.translations import N_

#: The tab's pages, in menu order: (endpoint, English name).
NAVIGATION = (("admin_history", N_("Conversation history")),
              ("admin_configuration", N_("Configuration")),
              ("admin_help", N_("Help")), ("admin_faq", N_("FAQ")),
              ("admin_contact", N_("Contact")))
#: The global configuration every page reads, in one query.
GLOBAL_KEYS = ("PS_TIMEZONE", "PS_MULTISHOP_FEATURE_ACTIVE")
#: The meta row telling that the tab was visited once (the getting-started recap was shown).
SEEN_META = "admin_seen"


@dataclasses.dataclass
class Page:
    """One request of the tab: who asks, in which language and shop context."""

    state: ChatState
    conn: sa.Connection
    employee: Employee
    locale: admin_locale.AdminLocale
    context: ShopContext

    def render(self, template: str, endpoint: str, **values: Any) -> str:
        """The page ``template`` inside the tab's layout."""
        _ = self.locale.gettext
        return render_template(
            f"psonlinechat/admin/{template}", _=_, ngettext=self.locale.ngettext,
            locale=self.locale, page=self,
            endpoint=endpoint, navigation=[(e, _(name)) for e, name in NAVIGATION],
            csrf_field=csrf.FIELD, csrf_token=csrf.token(self.secret, self.employee),
            **values)

    @property
    def secret(self) -> str:
        return self.state.settings.token_secret()

    def url(self, endpoint: str, **values: Any) -> str:
        """A URL of the tab in the same shop context."""
        if self.context.chosen and self.context.chosen.key:
            values.setdefault("shop_context", self.context.chosen.key)
        return url_for(f"psonlinechat.{endpoint}", **values)

    def require_csrf(self) -> None:
        """:raises werkzeug.exceptions.HTTPException: 403 for a forged change."""
        csrf.require(self.secret, self.employee, request)


def open_page(state: ChatState, conn: sa.Connection) -> Page:
    """The request's :class:`Page`; refuses who may not use the tab.

    :raises werkzeug.exceptions.HTTPException: no employee (redirect or 401), or one who
        serves no shop (403).
    """
    employee = require_employee("page")
    t = state.tables
    values = configuration_store.get_many(conn, t, GLOBAL_KEYS)
    timezone = values.get("PS_TIMEZONE")
    locale = admin_locale.for_employee(conn, t, employee,
                                       timezone if isinstance(timezone, str) else None)
    flag = values.get(configuration_store.MULTISHOP_KEY)
    context = resolve(conn, t, employee, request.values.get("shop_context"),
                      locale.gettext(N_("All shops")),
                      isinstance(flag, str) and configuration_store.as_bool(flag))
    if context.chosen is None:
        abort(403, description=locale.gettext(N_("You may not serve any shop.")))
    return Page(state, conn, employee, locale, context)


def register(bp: Blueprint, state: ChatState) -> None:
    """Add the tab's routes to ``bp``. Call before the blueprint is registered."""

    @bp.get("/admin/")
    def admin_index() -> Any:
        """The tab: the getting-started recap once after install, then Configuration."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            t = state.tables
            first = module.get(conn, t, SEEN_META) is None
            if first:
                module.put(conn, t, SEEN_META, "1")
                conn.commit()
            target = "admin_help" if first else "admin_configuration"
            return redirect(page.url(target, **({"welcome": "1"} if first else {})))

    @bp.route("/admin/configuration", methods=["GET", "POST"])
    def admin_configuration() -> Any:
        """The Configuration form; a valid POST saves and shows the page again."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            if request.method == "POST":
                return _post_configuration(page)
            level = page.context.chosen
            assert level is not None
            settings = configuration.read(conn, state.tables, level)
            return _configuration_page(page, settings, {},
                                       saved=request.args.get("saved") == "1")

    history.register(bp, state, open_page)
    help.register(bp, state, open_page)


def _post_configuration(page: Page) -> Any:
    """Save the posted form at the context's level, or show it again with its errors."""
    page.require_csrf()
    level = page.context.chosen
    assert level is not None
    t = page.state.tables
    langs = [lang.id_lang for lang in shop_tree.languages(page.conn, t, list(level.shop_ids))]
    changes = configuration.changes_from(request.form, langs)
    try:
        configuration.save(page.conn, t, page.state.shop.settings_store, level, changes)
    except SettingsError as error:
        page.conn.rollback()
        base = configuration.read(page.conn, t, level)
        shown = configuration.posted_settings(changes, base)
        errors = configuration.field_errors(error, page.locale.gettext)
        return _configuration_page(page, shown, errors, status=422)
    return redirect(page.url("admin_configuration", saved="1"), code=303)


def _configuration_page(page: Page, settings: ModuleSettings, errors: dict[str, str], *,
                        saved: bool = False, status: int = 200) -> tuple[str, int]:
    level = page.context.chosen
    assert level is not None
    languages = shop_tree.languages(page.conn, page.state.tables, list(level.shop_ids))
    default_lang = settings.default_lang or (languages[0].id_lang if languages else 0)
    _ = page.locale.gettext
    preview = configuration.preview_state(
        request.script_root + page.state.settings.url_prefix, page.locale.iso,
        {"operator": _(N_("Hello! How can I help you?")),
         "customer": _(N_("Do you deliver on Saturdays?"))})
    body = page.render("configuration.html", "admin_configuration", settings=settings,
                       errors=errors, saved=saved, languages=languages, preview=preview,
                       default_lang=default_lang, colour_fields=COLOUR_FIELDS,
                       offline_fields=OFFLINE_FIELDS)
    return body, status
