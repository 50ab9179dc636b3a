"""Fixtures of the browser tests of the storefront widget.

``widget_shop`` is one :class:`~tests.support.widgetshop.WidgetShop` per test module (its
``CHAT_SETTINGS`` dict, if any, gives its settings); ``storefront`` is that shop, quiet again
after the test; ``open_page(...)`` opens a page in a browser context of its own (a viewport,
a shop cookie, a locale), closed before the shop is reset.
"""

from __future__ import annotations

import pytest

from tests.support.widgetshop import WidgetShop

DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def widget_shop(request, mariadb):
    shop = WidgetShop(**getattr(request.module, "CHAT_SETTINGS", {}))
    yield shop
    shop.close()


@pytest.fixture
def storefront(widget_shop):
    """The module's storefront; sockets, conversations, offline messages and setting
    changes forgotten after the test."""
    yield widget_shop
    widget_shop.reset()


@pytest.fixture
def open_page(browser, storefront):
    """``open_page(cookie=None, viewport=DESKTOP, **context_options)``: a new page in a new
    browser context (closed after the test), with the shop's ``cookie`` if given."""
    contexts = []

    def make(cookie: dict | None = None, viewport: dict | None = None, **options):
        context = browser.new_context(locale=options.pop("locale", "en-US"),
                                      viewport=viewport or DESKTOP, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if cookie is not None:
            context.add_cookies([cookie])
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
