"""Host apps for the tests: a Flask app bridging a test shop, with OnlineChat set up on it.

Usage::

    app = chat_app(shop_db, keys)          # reads the shop's cookies (PrestaShop 9.1 names)
    app = chat_app(shop_db, keys, version="8.2.1", PSONLINECHAT_ADMIN_LOGIN_URL="...")
    app = chat_app(shop_db, chat=OnlineChat(identify_visitor=...))   # no cookie secrets
    app = closed_after_test(chat_app(shop_db, keys))  # its pooled connections closed after

An app keeps its engine's pooled connections open until disposed; an app made inside one
test, given to :func:`closed_after_test`, is disposed when the test ends (tests/conftest.py
calls :func:`close_apps`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from psonlinechat import OnlineChat, testing
from psonlinechat.prestashop.cookies import CookieKeys
from tests.support.shopdb import ShopDatabase


def chat_app(db: ShopDatabase, keys: CookieKeys | None = None, *,
             chat: OnlineChat | None = None, version: str | None = testing.DEFAULT_VERSION,
             **config: Any) -> Flask:
    """A Flask app whose config bridges ``db`` and ``chat`` (a new :class:`OnlineChat` when
    not given) set up on it.

    :param keys: the shop's cookie secrets; without them nobody is recognised by cookie.
    :param version: the PrestaShop version given with ``keys`` (``None``: read from the shop).
    :param config: further Flask config entries (``PSONLINECHAT_*``).
    :raises ConfigError: a setting is missing or malformed.
    """
    app = Flask(__name__)
    secrets = testing.keys_config(keys, version) if keys is not None else {}
    app.config.update(db.config(**secrets, **config))
    (chat or OnlineChat()).init_app(app)
    return app


_to_close: list[Flask] = []


def closed_after_test(app: Flask) -> Flask:
    """``app``, whose engine is disposed when the current test ends."""
    _to_close.append(app)
    return app


def close_apps() -> None:
    """Dispose the engines of the apps given to :func:`closed_after_test` (those with
    OnlineChat set up), newest first; their pooled connections would stay open otherwise."""
    while _to_close:
        state = _to_close.pop().extensions.get("psonlinechat")
        if state is not None:
            state.engine.dispose()
