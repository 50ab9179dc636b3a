"""Helpers for the Flask edges (views, sockets, hooks): per-request memos of core reads."""

from __future__ import annotations

from flask import g

from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.web.state import get_state


def module_settings(id_shop: int) -> ModuleSettings:
    """The merchant's settings for ``id_shop``, read at most once per request (kept in ``g``).

    :raises ShopError: the database lacks PrestaShop's or the module's tables.
    """
    memo: dict[int, ModuleSettings] = g.setdefault("_psonlinechat_module_settings", {})
    if id_shop not in memo:
        state = get_state()
        with state.shop.connect() as conn:
            memo[id_shop] = state.module_settings(conn, id_shop)
    return memo[id_shop]
