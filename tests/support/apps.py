"""Host apps for the tests: a Flask app bridging a test shop, with OnlineChat set up on it.

Usage::

    app = chat_app(shop_db, keys)          # reads the shop's cookies (PrestaShop 9.1 names)
    app = chat_app(shop_db, keys, version="8.2.1", PSONLINECHAT_ADMIN_LOGIN_URL="...")
    app = chat_app(shop_db, chat=OnlineChat(identify_visitor=...))   # no cookie secrets
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
