"""One app's bridge: :class:`ChatState`, kept in ``app.extensions["psonlinechat"]``.

The settings, the shop's database (:class:`~psonlinechat.shop.database.ShopDatabase`), the
app's mailer and its chat engine, as typed attributes. The blueprint, the sockets and the
commands receive it; it imports none of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa

from psonlinechat.chat.engine import Chat
from psonlinechat.config import Settings
from psonlinechat.mail.messages import Mailer
from psonlinechat.shop import identity
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.store.tables import Tables

EXTENSION_NAME = "psonlinechat"


class Loaders(Protocol):
    """Where a host app's own identity functions are found (the :class:`~psonlinechat.OnlineChat`)."""

    visitor_loader_function: Callable[[Any], Visitor] | None
    employee_loader_function: Callable[[Any], Employee | None] | None


class ChatState:
    """Everything one app's bridge holds (``app.extensions["psonlinechat"]``).

    :param settings: the validated deployment settings.
    :param shop: the shop's database as the module sees it (engine, tables, directory,
        the merchant's settings store, the clock identity compares with).
    :param extension: the :class:`~psonlinechat.OnlineChat` that made this state (its loaders).

    ``mailer`` is the app's mailer when the host set one (the demo's outbox); the chat
    engine is made on first use (:meth:`chat`).
    """

    def __init__(self, settings: Settings, shop: ShopDatabase, extension: Loaders) -> None:
        self.settings = settings
        self.shop = shop
        self.extension = extension
        self.mailer: Mailer | None = None
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
        """The visitor of a storefront request; an anonymous one when nothing vouches for it.

        Uses the loader plugged into :class:`OnlineChat` when there is one, else the shop's
        cookies (:func:`psonlinechat.shop.identity.identify_visitor`). Computed once per request.

        :raises ShopError: the database is unreachable.
        """
        def load() -> Visitor:
            loader = self.extension.visitor_loader_function
            return loader(request) if loader else identity.identify_visitor(self.shop, request)

        return _once_per_request(request, "psonlinechat.visitor", load)

    def identify_employee(self, request: Any) -> Employee | None:
        """The employee of a back-office request, or ``None``.

        Uses the loader plugged into :class:`OnlineChat` when there is one, else the shop's
        ``psAdmin`` cookie (:func:`psonlinechat.shop.identity.identify_employee`).
        Computed once per request.

        :raises ShopError: the database is unreachable.
        """
        def load() -> Employee | None:
            loader = self.extension.employee_loader_function
            if loader:
                return loader(request)
            return identity.identify_employee(self.shop, request)

        return _once_per_request(request, "psonlinechat.employee", load)

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
                    chat = self._chat = Chat(self.shop)
        return chat

    def stop_chat(self) -> None:
        """Stop the app's chat engine if it was started (tests, worker exit)."""
        with self._lock:
            chat, self._chat = self._chat, None
        if chat is not None:
            chat.close()


def _once_per_request(request: Any, key: str, load: Callable[[], Any]) -> Any:
    """``load()``, cached in the request's WSGI environ so it runs once per request."""
    environ = getattr(request, "environ", None)
    if environ is None:
        return load()
    if key not in environ:
        environ[key] = load()
    return environ[key]
