"""The built-in ``display_back_office_header`` handler: the operator console's stylesheet.

Registered through the ``psonlinechat`` entry-point group like any other plugin. Empty for
anyone but a signed-in employee who may serve the shop
(:func:`psonlinechat.web.admin.console.console_for`).
"""

from __future__ import annotations

from psonlinechat.hookspecs import HookContext, hookimpl
from psonlinechat.web.admin import console


@hookimpl(trylast=True)
def display_back_office_header(context: HookContext) -> str | None:
    """The ``<link>`` of the console's stylesheet, or ``None``.

    :raises ShopError: the shop's database is out of reach.
    """
    return console.header(context)
