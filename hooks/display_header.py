"""The built-in ``display_header`` handler: the storefront widget's host CSS.

Registered through the ``psonlinechat`` entry-point group like any other plugin, and
``trylast``, so a host's or a third party's fragment comes first.
"""

from __future__ import annotations

from psonlinechat.hookspecs import HookContext, hookimpl
from psonlinechat.web.front import widget


@hookimpl(trylast=True)
def display_header(context: HookContext) -> str | None:
    """The widget host's few lines of CSS (:func:`psonlinechat.web.front.widget.header`).
    Raises nothing of its own (no query)."""
    return widget.header(context)
