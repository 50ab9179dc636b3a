"""A storefront for the widget's browser tests: a small shop page with the chat's fragments.

:class:`WidgetShop` is a :class:`~tests.support.chatclient.ChatShop` (a fresh MariaDB shop,
the module installed, a live server) whose app also serves storefront pages (``/`` and
``/product/<n>``: ``text/html`` with ``<head>`` and ``<body>``), wrapped by the module's
:class:`~psonlinechat.web.inject.FragmentInjector`, as a proxied shop is. Browsers reach it
through a :class:`~tests.support.cutter.Cutter` (``shop.page_url``), so that a test can cut
the network; operators' sockets go straight to the server.

Visitors are recognised by the shop's cookies: :meth:`WidgetShop.visitor_cookie` gives a
browser cookie for an anonymous visitor or a signed-in customer, in English or French.
"""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa
from markupsafe import escape

from psonlinechat import testing
from psonlinechat.shop.settings import COLOUR_FIELDS
from psonlinechat.store import configuration
from psonlinechat.web.inject import FragmentInjector
from tests.support.chatclient import HOST, ChatShop
from tests.support.cutter import Cutter

PAGE = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | Test shop</title></head>
<body>
<header><a href="/">Test shop</a> <a href="/product/2">Mugs</a></header>
<main><h1>{title}</h1><p>A fine product, made to last.</p></main>
</body>
</html>
"""

TEXTS = ("header_text", "welcome_text", "offline_header_text", "offline_welcome_text")
#: Where the merchant's notifications go.
NOTIFY = "owner@example.test"
#: The offline form as the merchant leaves it between tests.
DEFAULT_FIELDS = {"firstname": "requested", "lastname": "requested", "email": "required",
                  "phone": "hidden", "message": "required"}


def _storefront_page(n: int = 1) -> tuple[str, int, dict[str, str]]:
    title = escape(f"Product {n}")
    return PAGE.format(lang="en", title=title), 200, {"Content-Type": "text/html; charset=utf-8"}


class WidgetShop(ChatShop):
    """A chat shop whose app serves storefront pages with the widget injected."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.app.add_url_rule("/", "storefront_home", lambda: _storefront_page(1))
        self.app.add_url_rule("/product/<int:n>", "storefront_product", _storefront_page)
        self.app.wsgi_app = FragmentInjector(  # type: ignore[method-assign]
            self.app.wsgi_app, self.app,
            pages=lambda environ: not environ.get("PATH_INFO", "").startswith("/psonlinechat"))
        self.relay = Cutter(self.server.port).start()
        self._visitors = itertools.count(2)
        self.next_address()

    def next_address(self) -> str:
        """Make the relay connect from a new loopback address: the next visitor's, so that
        the per-address limits of one test never reach the next."""
        n = next(self._visitors)
        self.relay.source = f"127.0.{n // 250}.{n % 250 + 2}"
        return self.relay.source

    @property
    def page_url(self) -> str:
        """The storefront's home page, through the relay."""
        return self.relay.url + "/"

    def visitor_cookie(self, lang: str = "en", id_customer: int | None = None) -> dict:
        """A Playwright cookie of the storefront: anonymous, or ``id_customer`` signed in,
        in ``lang`` (``en`` or ``fr``)."""
        id_lang = self.db.ids[lang]
        if id_customer is None:
            name, value = testing.anonymous_cookie(self.keys, HOST, id_lang=id_lang)
        else:
            with self.db.engine.begin() as conn:
                name, value = testing.sign_in_customer(conn, self.db.tables, self.keys, HOST,
                                                       id_customer, id_lang)
        return {"name": name, "value": value, "url": self.page_url}

    def new_customer(self, email: str, **fields: Any) -> int:
        with self.db.engine.begin() as conn:
            return testing.add_customer(conn, self.db.tables, email=email, **fields)

    def texts(self, lang: str = "en", **texts: str) -> None:
        """Set merchant texts (``header_text=...``) in ``lang``."""
        self.settings(**{name: {self.db.ids[lang]: text} for name, text in texts.items()})

    def mail_to(self, port: int) -> None:
        """Send the shop's mail by SMTP to 127.0.0.1:``port``, notifications to NOTIFY."""
        self.configure(PS_MAIL_METHOD="2", PS_MAIL_SERVER="127.0.0.1",
                       PS_MAIL_SMTP_PORT=str(port), PS_MAIL_SMTP_ENCRYPTION="off",
                       PS_MAIL_USER="", PS_MAIL_PASSWD="")
        self.settings(notify_email=NOTIFY)

    def configure(self, **values: str) -> None:
        """Write PrestaShop configuration keys globally."""
        with self.db.engine.begin() as conn:
            for name, value in values.items():
                configuration.update_value(conn, self.db.tables, name, value)

    def rows(self, table: str) -> list:
        return self.query(sa.select(getattr(self.db.tables, table)))

    def reset(self) -> None:
        """Quiet again: :meth:`ChatShop.reset`, the relay open (a new visitor address),
        texts, colours, offline form and mail as they were, offline messages and mails
        forgotten."""
        self.relay.restore()
        self.next_address()
        super().reset()
        t = self.db.tables
        with self.db.engine.begin() as conn:
            conn.execute(t.mail.delete())
            conn.execute(t.offline_message.delete())
        self.configure(PS_MAIL_METHOD="3")
        texts = {name: dict(getattr(self.initial, name)) for name in TEXTS}
        colours = {name: getattr(self.initial, name) for name in COLOUR_FIELDS}
        self.settings(offline_fields=dict(DEFAULT_FIELDS), sounds=self.initial.sounds,
                      notify_email=NOTIFY, **texts, **colours)

    def close(self) -> None:
        self.relay.stop()
        super().close()
