"""The Flask extension: ``OnlineChat(app)`` or ``OnlineChat()`` then ``init_app(app)``.

``init_app`` validates the ``PSONLINECHAT_*`` settings (reading the shop's parameters.php
when ``PSONLINECHAT_PRESTASHOP_ROOT`` is set), makes the app's engine, registers the
blueprint under ``PSONLINECHAT_URL_PREFIX`` and the ``flask psonlinechat`` commands, and
keeps the app's state in ``app.extensions["psonlinechat"]``. Nothing connects to the
database until the first request or command needs it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask, current_app

from psonlinechat.store import engine as db, tables as tables_module
from psonlinechat.shop import identity
from psonlinechat import config as settings_module
from psonlinechat.errors import ShopError
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.shop.settings import ModuleSettings, SettingsStore
from psonlinechat.store import schema

if TYPE_CHECKING:
    from psonlinechat.config import Settings

EXTENSION_NAME = "psonlinechat"


class ChatState:
    """Everything one app's bridge holds: settings, engine, tables and services.

    :param settings: the validated deployment settings.
    :param engine: the pooled engine over the shop's database.
    """

    def __init__(self, settings: Settings, engine: sa.Engine, extension: OnlineChat) -> None:
        self.settings = settings
        self.engine = engine
        self.extension = extension
        self._tables: tables_module.Tables | None = None
        self._lock = threading.Lock()
        #: Services attached by other modules (broker, module settings cache, …).
        self.services: dict[str, Any] = {}
        self.services["settings"] = SettingsStore()

    def identify_visitor(self, request: Any) -> Visitor:
        """The visitor of a storefront request; an anonymous one when nothing vouches for it.

        Uses the loader plugged into :class:`OnlineChat` when there is one, else the shop's
        cookies (:func:`psonlinechat.shop.identity.identify_visitor`). Computed once per request.

        :raises ShopError: the database is unreachable.
        """
        def load() -> Visitor:
            loader = self.extension.visitor_loader_function
            return loader(request) if loader else identity.identify_visitor(self, request)

        return _once_per_request(request, "psonlinechat.visitor", load)

    def identify_employee(self, request: Any) -> Employee | None:
        """The employee of a back-office request, or ``None``.

        Uses the loader plugged into :class:`OnlineChat` when there is one, else the shop's
        ``psAdmin`` cookie (:func:`psonlinechat.shop.identity.identify_employee`, with the clock
        in ``services["clock"]`` when set). Computed once per request.

        :raises ShopError: the database is unreachable.
        """
        def load() -> Employee | None:
            loader = self.extension.employee_loader_function
            if loader:
                return loader(request)
            return identity.identify_employee(
                self, request, clock=self.services.get("clock", time.time))

        return _once_per_request(request, "psonlinechat.employee", load)

    @property
    def tables(self) -> tables_module.Tables:
        """The table definitions, fitted to the shop's schema on first use.

        :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
        """
        if self._tables is None:
            with self._lock:
                if self._tables is None:
                    self._tables = self._detect_tables()
        return self._tables

    def module_settings(self, conn: sa.Connection, id_shop: int) -> ModuleSettings:
        """The merchant's settings for ``id_shop`` (cached; one query when current).

        :raises ShopError: the database lacks PrestaShop's or the module's tables.
        """
        return self.services["settings"].get(conn, self.tables, id_shop)

    def _detect_tables(self) -> tables_module.Tables:
        prefix = self.settings.table_prefix
        try:
            with self.engine.connect() as conn:
                missing = schema.missing_shop_tables(conn, prefix)
                features = schema.detect_features(conn, prefix)
        except sa.exc.OperationalError as exc:
            raise ShopError(f"cannot reach the shop's database: {exc.orig}") from None
        if missing:
            raise ShopError(
                f"the database has no PrestaShop tables with prefix {prefix!r} "
                f"(missing: {', '.join(missing)})"
            )
        return tables_module.build(prefix, features)


class OnlineChat:
    """PrestaShop's Online Chat for a Flask app.

    :param app: the app to set up now; or call :meth:`init_app` later.
    :param identify_visitor: ``fn(request) -> Visitor`` replacing the cookie-based visitor
        recognition (same as decorating it with :meth:`visitor_loader`).
    :param identify_employee: ``fn(request) -> Employee | None`` replacing the cookie-based
        employee recognition (same as :meth:`employee_loader`).
    """

    def __init__(self, app: Flask | None = None, *,
                 identify_visitor: Callable[[Any], Visitor] | None = None,
                 identify_employee: Callable[[Any], Employee | None] | None = None) -> None:
        self.visitor_loader_function = identify_visitor
        self.employee_loader_function = identify_employee
        if app is not None:
            self.init_app(app)

    def visitor_loader(self, fn: Callable[[Any], Visitor]) -> Callable[[Any], Visitor]:
        """Decorator: ``fn(request)`` tells who the storefront visitor is, instead of the
        shop's cookies. Call :func:`psonlinechat.shop.identity.identify_visitor` inside to fall back.
        """
        self.visitor_loader_function = fn
        return fn

    def employee_loader(self, fn: Callable[[Any], Employee | None]) -> Callable[[Any], Employee | None]:
        """Decorator: ``fn(request)`` tells which employee (or ``None``) makes a back-office
        request, instead of the shop's ``psAdmin`` cookie.
        """
        self.employee_loader_function = fn
        return fn

    def init_app(self, app: Flask) -> None:
        """Set the bridge up on ``app``.

        :raises RuntimeError: ``app`` already has an OnlineChat.
        :raises ConfigError: a ``PSONLINECHAT_*`` setting is missing or malformed.
        """
        if EXTENSION_NAME in app.extensions:
            raise RuntimeError("this app already has an OnlineChat; call init_app once per app")
        shop_parameters = None
        root = app.config.get("PSONLINECHAT_PRESTASHOP_ROOT")
        if root:
            from psonlinechat.prestashop import parameters

            shop_parameters = parameters.read(root).as_settings()
        settings = settings_module.load(app.config, shop_parameters=shop_parameters)
        state = ChatState(settings, db.create_engine(settings), self)
        app.extensions[EXTENSION_NAME] = state

        from psonlinechat.web import blueprint
        from psonlinechat import console as cli
        from psonlinechat.web.sockets import routes as sockets

        bp = blueprint.create_blueprint(state)
        sockets.register(app, bp, state)
        app.register_blueprint(bp, url_prefix=settings.url_prefix)
        app.cli.add_command(cli.flask_group)


def _once_per_request(request: Any, key: str, load: Callable[[], Any]) -> Any:
    """``load()``, cached in the request's WSGI environ so it runs once per request."""
    environ = getattr(request, "environ", None)
    if environ is None:
        return load()
    if key not in environ:
        environ[key] = load()
    return environ[key]


def get_state(app: Flask | None = None) -> ChatState:
    """The bridge's state for ``app`` (default: the current app).

    :raises RuntimeError: the app has no OnlineChat.
    """
    app = app or current_app
    try:
        return app.extensions[EXTENSION_NAME]
    except KeyError:
        raise RuntimeError("OnlineChat(app) was never called for this app") from None
