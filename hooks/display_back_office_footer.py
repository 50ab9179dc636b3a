"""The built-in ``display_back_office_footer`` handler: the operator console.

Registered through the ``psonlinechat`` entry-point group like any other plugin. Gives the
recap window, the console's state and its script to a signed-in employee who may serve the
shop, and nothing to anyone else, so that no socket opens for them
(:func:`psonlinechat.web.admin.console.console_for`).
"""

from __future__ import annotations

from psonlinechat.hookspecs import HookContext, hookimpl
from psonlinechat.web.admin import console


@hookimpl(trylast=True)
def display_back_office_footer(context: HookContext) -> str | None:
    """The console's HTML, or ``None``.

    :raises ShopError: the shop's database is out of reach.
    """
    return console.footer(context)
