"""The Flask extension: ``OnlineChat(app)`` or ``OnlineChat()`` then ``init_app(app)``.

``init_app`` validates the ``PSONLINECHAT_*`` settings (reading the shop's parameters.php
when ``PSONLINECHAT_PRESTASHOP_ROOT`` is set), makes the app's engine, registers the
blueprint under ``PSONLINECHAT_URL_PREFIX`` and the ``flask psonlinechat`` commands, and
keeps the app's state in ``app.extensions["psonlinechat"]``. Nothing connects to the
database until the first request or command needs it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask, current_app

from . import db, settings as settings_module, tables as tables_module
from .errors import ShopError
from .identity import Employee, Visitor
from .module_settings import ModuleSettings, SettingsStore
from .repositories import schema

if TYPE_CHECKING:
    from .settings import Settings

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

        Placeholder until the identity issue lands: every visitor is anonymous on shop 1.
        """
        return Visitor(id_shop=1, id_lang=1)

    def identify_employee(self, request: Any) -> Employee | None:
        """The employee of a back-office request, or ``None``.

        Placeholder until the identity issue lands: nobody is an employee.
        """
        return None

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
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

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
            from .prestashop import parameters

            shop_parameters = parameters.read(root).as_settings()
        settings = settings_module.load(app.config, shop_parameters=shop_parameters)
        state = ChatState(settings, db.create_engine(settings), self)
        app.extensions[EXTENSION_NAME] = state

        from . import cli, views

        app.register_blueprint(views.create_blueprint(state), url_prefix=settings.url_prefix)
        app.cli.add_command(cli.flask_group)


def get_state(app: Flask | None = None) -> ChatState:
    """The bridge's state for ``app`` (default: the current app).

    :raises RuntimeError: the app has no OnlineChat.
    """
    app = app or current_app
    try:
        return app.extensions[EXTENSION_NAME]
    except KeyError:
        raise RuntimeError("OnlineChat(app) was never called for this app") from None
