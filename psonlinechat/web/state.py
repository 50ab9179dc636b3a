"""One app's bridge: :class:`ChatState`, kept in ``app.extensions["psonlinechat"]``.

The settings, the shop's database (:class:`~psonlinechat.shop.database.ShopDatabase`), the
app's plugin manager, its mailer and its chat engine, as typed attributes. The blueprint,
the sockets and the commands receive it; it imports none of them. :func:`get_state` finds
an app's (also importable from :mod:`psonlinechat` and ``web.extension``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pluggy
import sqlalchemy as sa
from flask import Flask, current_app

from psonlinechat.chat.engine import Chat
from psonlinechat.config import Settings
from psonlinechat.hookspecs import HookContext
from psonlinechat.mail.sender import MailSender
from psonlinechat.mail.transports import Mailer
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.shop.request_facts import RequestFacts
from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.store.tables import Tables
from psonlinechat.web import plugins as plugin_calls

EXTENSION_NAME = "psonlinechat"


class ChatState:
    """Everything one app's bridge holds (``app.extensions["psonlinechat"]``).

    :param settings: the validated deployment settings.
    :param shop: the shop's database as the module sees it (engine, tables, directory,
        the merchant's settings store, the clock identity compares with).
    :param plugins: the app's plugin manager (:func:`psonlinechat.web.plugins.create_manager`).
    :param render: ``render(template_name, **variables) -> str`` with the app's templates,
        given to the ``display_*`` hooks.

    ``mailer`` is the app's mailer when the host set one (the demo's outbox); the chat
    engine is made on first use (:meth:`chat`); ``mail`` sends the queued mails from a
    thread started on first use (:class:`~psonlinechat.mail.sender.MailSender`).
    """

    def __init__(self, settings: Settings, shop: ShopDatabase, plugins: pluggy.PluginManager,
                 render: Callable[..., str]) -> None:
        self.settings = settings
        self.shop = shop
        self.plugins = plugins
        self.render = render
        self.mailer: Mailer | None = None
        self.mail = MailSender(shop, lambda: self.mailer)
        self._chat: Chat | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        """The pooled engine over the shop's database."""
        return self.shop.engine

    @property
    def tables(self) -> Tables:
        """The table definitions, fitted to the shop's schema on first use.

        :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
        """
        return self.shop.tables

    def module_settings(self, conn: sa.Connection, id_shop: int) -> ModuleSettings:
        """The merchant's settings for ``id_shop`` (cached; one query when current).

        :raises ShopError: the database lacks PrestaShop's or the module's tables.
        """
        return self.shop.module_settings(conn, id_shop)

    def identify_visitor(self, request: Any) -> Visitor:
        """The visitor of a storefront request (a Flask request, or anything with its WSGI
        ``environ``): :meth:`visitor_of` its environ.

        :raises ShopError: the database is unreachable.
        """
        return self.visitor_of(request.environ)

    def identify_employee(self, request: Any) -> Employee | None:
        """The employee of a back-office request, or ``None``: :meth:`employee_of` its environ.

        :raises ShopError: the database is unreachable.
        """
        return self.employee_of(request.environ)

    def visitor_of(self, environ: dict[str, Any]) -> Visitor:
        """The visitor of a WSGI request, from the ``identify_visitor`` hook: the host's
        loader, then the plugins, then the shop's cookies (an anonymous visitor when nothing
        vouches for one). Computed once per request (kept in the environ); no Flask request
        is needed.

        :raises ShopError: the database is unreachable.
        :raises PsOnlineChatError: no plugin answered (the cookie plugin was blocked).
        """
        return plugin_calls.visitor_of(self.plugins, self.shop, environ)

    def employee_of(self, environ: dict[str, Any]) -> Employee | None:
        """The employee of a WSGI request, or ``None``, from the ``identify_employee`` hook
        (the host's loader, the plugins, then the shop's ``psAdmin`` cookie). Computed once
        per request; no Flask request is needed.

        :raises ShopError: the database is unreachable.
        """
        return plugin_calls.employee_of(self.plugins, self.shop, environ)

    def hook_context(self, environ: dict[str, Any]) -> HookContext:
        """What the ``display_*`` hooks receive for the WSGI request ``environ``."""
        return HookContext(request=RequestFacts.of(environ), shop=self.shop, render=self.render,
                           identify_visitor=lambda: self.visitor_of(environ),
                           identify_employee=lambda: self.employee_of(environ),
                           chat_state=self)

    def display(self, name: str, environ: dict[str, Any]) -> str:
        """The HTML of the ``display_*`` hook ``name`` for the WSGI request ``environ``:
        every plugin's answer, joined in calling order.

        :raises ValueError: there is no such display hook.
        """
        return plugin_calls.display(self.plugins, name, self.hook_context(environ))

    def chat(self) -> Chat:
        """The app's chat engine, made on first use.

        :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
        """
        chat = self._chat
        if chat is None:
            self.shop.tables  # noqa: B018 - detect the schema first, outside our lock
            with self._lock:
                chat = self._chat
                if chat is None:
                    chat = self._chat = Chat(
                        self.shop, actions=plugin_calls.actions_for(self.plugins))
        return chat

    def stop_chat(self) -> None:
        """Stop the app's chat engine and its mail sender if they were started (tests,
        worker exit); each starts again on its next use."""
        with self._lock:
            chat, self._chat = self._chat, None
        if chat is not None:
            chat.close()
        self.mail.close()


def get_state(app: Flask | None = None) -> ChatState:
    """The bridge's state for ``app`` (default: the current app).

    :raises RuntimeError: the app has no OnlineChat.
    """
    app = app or current_app
    try:
        return app.extensions[EXTENSION_NAME]
    except KeyError:
        raise RuntimeError("OnlineChat(app) was never called for this app") from None
