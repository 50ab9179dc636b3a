"""The "Help", "FAQ" and "Contact" pages of the tab (guide parts 1, 4 and 5): getting
started, the questions merchants ask, and who to write to. Their text is in the templates,
translated from the ``admin`` catalogue; Contact shows the shop's own contact details
(``PS_SHOP_NAME``, ``PS_SHOP_EMAIL``, ``PS_SHOP_PHONE``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, request

from psonlinechat.store import configuration
from psonlinechat.web.state import ChatState

CONTACT_KEYS = ("PS_SHOP_NAME", "PS_SHOP_EMAIL", "PS_SHOP_PHONE")


def register(bp: Blueprint, state: ChatState, open_page: Callable[..., Any]) -> None:
    """Add the Help, FAQ and Contact routes to ``bp``."""

    @bp.get("/admin/help")
    def admin_help() -> Any:
        """Getting started; after install it greets the merchant first."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            return page.render("help.html", "admin_help",
                               welcome=request.args.get("welcome") == "1")

    @bp.get("/admin/faq")
    def admin_faq() -> Any:
        """The questions a merchant asks, with the figures this project measured."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            return page.render("faq.html", "admin_faq")

    @bp.get("/admin/contact")
    def admin_contact() -> Any:
        """The shop's support contact."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            level = page.context.chosen
            values = configuration.get_many(conn, state.tables, CONTACT_KEYS, level.id_shop,
                                            level.id_shop_group)
            contact = {key: value for key, value in values.items() if isinstance(value, str)}
            return page.render("contact.html", "admin_contact", contact=contact)
