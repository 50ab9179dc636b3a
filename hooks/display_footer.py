"""The built-in ``display_footer`` handler: the storefront widget (launcher, state, loader).

Registered through the ``psonlinechat`` entry-point group like any other plugin, and
``trylast``, so a host's or a third party's fragment comes first. See docs/widget.md.
"""

from __future__ import annotations

from psonlinechat.hookspecs import HookContext, hookimpl
from psonlinechat.web.front import widget


@hookimpl(trylast=True)
def display_footer(context: HookContext) -> str | None:
    """The widget's footer fragment (:func:`psonlinechat.web.front.widget.footer`).

    :raises ShopError: the shop's database is out of reach.
    """
    return widget.footer(context)
