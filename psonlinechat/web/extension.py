"""The Flask extension: ``OnlineChat(app)`` or ``OnlineChat()`` then ``init_app(app)``.

``init_app`` validates the ``PSONLINECHAT_*`` settings (reading the shop's parameters.php
when ``PSONLINECHAT_PRESTASHOP_ROOT`` is set), makes the app's engine, registers the
blueprint under ``PSONLINECHAT_URL_PREFIX`` and the ``flask psonlinechat`` commands, and
keeps the app's state in ``app.extensions["psonlinechat"]``. Nothing connects to the
database until the first request or command needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from psonlinechat import config
from psonlinechat.chat.engine import Chat
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.store import engine as store_engine
from psonlinechat.web import blueprint, commands, fragments, offline
from psonlinechat.web import plugins as plugin_manager
from psonlinechat.web.admin import pages as admin_pages
from psonlinechat.web.sockets import routes
from psonlinechat.web.state import EXTENSION_NAME, ChatState
from psonlinechat.web.state import get_state as get_state  # re-exported for host apps


class OnlineChat:
    """PrestaShop's Online Chat for a Flask app.

    :param app: the app to set up now; or call :meth:`init_app` later.
    :param identify_visitor: ``fn(request) -> Visitor`` replacing the cookie-based visitor
        recognition (same as decorating it with :meth:`visitor_loader`).
    :param identify_employee: ``fn(request) -> Employee | None`` replacing the cookie-based
        employee recognition (same as :meth:`employee_loader`).
    :param plugins: plugin objects (modules, instances) with ``@hookimpl`` handlers,
        registered in each app's plugin manager without an entry point; they are called in
        the order given, before the entry-point plugins.

    The loaders are a plugin asked before any other (see :mod:`psonlinechat.web.plugins`).
    """

    def __init__(self, app: Flask | None = None, *,
                 identify_visitor: Callable[[Any], Visitor] | None = None,
                 identify_employee: Callable[[Any], Employee | None] | None = None,
                 plugins: Iterable[object] = ()) -> None:
        self.visitor_loader_function = identify_visitor
        self.employee_loader_function = identify_employee
        self.plugins = list(plugins)
        if app is not None:
            self.init_app(app)

    def visitor_loader(self, fn: Callable[[Any], Visitor]) -> Callable[[Any], Visitor]:
        """Decorator: ``fn(request)`` tells who the storefront visitor is, instead of the
        shop's cookies. Call :func:`psonlinechat.shop.identity.identify_visitor` with
        ``get_state().shop`` inside to fall back.
        """
        self.visitor_loader_function = fn
        return fn

    def employee_loader(
            self, fn: Callable[[Any], Employee | None]) -> Callable[[Any], Employee | None]:
        """Decorator: ``fn(request)`` tells which employee (or ``None``) makes a back-office
        request, instead of the shop's ``psAdmin`` cookie.
        """
        self.employee_loader_function = fn
        return fn

    def init_app(self, app: Flask) -> None:
        """Set the bridge up on ``app``.

        The app gets a plugin manager of its own: the entry-point group ``psonlinechat``,
        then this object's ``plugins``, then its loaders.

        :raises RuntimeError: ``app`` already has an OnlineChat.
        :raises ConfigError: a ``PSONLINECHAT_*`` setting is missing or malformed.
        :raises pluggy.PluginValidationError: a plugin does not fit the hook specifications.
        """
        if EXTENSION_NAME in app.extensions:
            raise RuntimeError("this app already has an OnlineChat; call init_app once per app")
        settings = config.from_mapping(app.config)
        shop = ShopDatabase(settings, store_engine.create_engine(settings))
        manager = plugin_manager.create_manager(self, self.plugins)
        state = ChatState(settings, shop, manager, plugin_manager.renderer(app))
        app.extensions[EXTENSION_NAME] = state
        bp = blueprint.create_blueprint(state)
        routes.register(app, bp, state)
        offline.register(bp, state)
        fragments.register(bp, state)
        admin_pages.register(bp, state)
        app.register_blueprint(bp, url_prefix=settings.url_prefix)
        app.cli.add_command(commands.flask_group)


def chat_for(state: ChatState) -> Chat:
    """The app's chat engine (:meth:`ChatState.chat`).

    :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
    """
    return state.chat()


