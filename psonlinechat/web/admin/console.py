"""The operator console's fragments: who gets it, and the state its script starts from.

The console lives at the bottom of every back-office page (``displayBackOfficeFooter``),
its stylesheet in the head (``displayBackOfficeHeader``). Only a signed-in employee who may
serve the request's shop (a SuperAdmin, or an ``employee_shop`` row, as the operator socket
decides) gets anything: anyone else gets empty fragments, so no script runs and no socket
opens. The state is JSON the page carries to ``console.js`` (see docs/console.md).
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any

from psonlinechat.hookspecs import HookContext
from psonlinechat.shop.identity import Employee
from psonlinechat.store import shops
from psonlinechat.web.admin.strings import STRINGS
from psonlinechat.web.front.widget import asset_url
from psonlinechat.web.translations import translate_all

#: The translation domain of the console's strings.
DOMAIN = "console"
#: The version of the state's shape (``v``), bumped when a field changes meaning.
STATE_VERSION = 1
HEADER_TEMPLATE = "psonlinechat/admin/console_header.html"
FOOTER_TEMPLATE = "psonlinechat/admin/console_footer.html"


@dataclasses.dataclass(frozen=True)
class Console:
    """One employee's console on one shop's back-office page."""

    employee: Employee
    id_shop: int
    iso: str
    state: dict[str, Any]

    @property
    def strings(self) -> dict[str, str]:
        """The console's strings in the employee's language."""
        return self.state["strings"]


#: The console of each request being answered, by the id of its RequestFacts (one per
#: request, kept in its environ): the header and the footer ask once. An entry leaves with
#: its request.
_per_request: dict[int, Console | None] = {}


def console_for(context: HookContext) -> Console | None:
    """The console of the request's employee, or ``None`` when nobody signed in to the back
    office, or the employee may not serve the request's shop. Worked out once per request.

    :raises ShopError: the shop's database is out of reach.
    """
    key = id(context.request)
    if key in _per_request:
        return _per_request[key]
    console = _console(context)
    _per_request[key] = console
    weakref.finalize(context.request, _per_request.pop, key, None)
    return console


def _console(context: HookContext) -> Console | None:
    """:func:`console_for`, every time."""
    employee = context.employee
    if employee is None:
        return None
    id_shop = context.visitor.id_shop
    with context.shop.connect() as conn:
        t = context.shop.tables
        if shops.get_shop(conn, t, id_shop) is None or not shops.employee_serves_shop(
                conn, t, employee.id_employee, employee.id_profile, id_shop):
            return None
        settings = context.shop.module_settings(conn, id_shop)
    iso = context.shop.language_iso(employee.id_lang, id_shop)
    prefix = context.request.script_root + context.shop.settings.url_prefix  # app mounted there
    state = {
        "v": STATE_VERSION, "lang": iso, "id_shop": id_shop,
        "id_employee": employee.id_employee,
        "socket": f"{prefix}/ws/operator",
        "assets": {"js": asset_url(prefix, "js", "console.js"),
                   "css": asset_url(prefix, "css", "console.css")},
        "storage_key": f"psonlinechat-console:{id_shop}:{employee.id_employee}",
        "operator_name": settings.operator_name, "sounds": settings.sounds,
        "strings": translate_all(STRINGS, iso, DOMAIN),
    }
    return Console(employee, id_shop, iso, state)


def header(context: HookContext) -> str | None:
    """The console's ``<head>`` fragment (its stylesheet), or ``None``.

    :raises ShopError: the shop's database is out of reach.
    """
    console = console_for(context)
    if console is None:
        return None
    return context.render(HEADER_TEMPLATE, console=console)


def footer(context: HookContext) -> str | None:
    """The console's body fragment (the recap window, the state, the script), or ``None``.

    :raises ShopError: the shop's database is out of reach.
    """
    console = console_for(context)
    if console is None:
        return None
    return context.render(FOOTER_TEMPLATE, console=console, t=console.strings)
