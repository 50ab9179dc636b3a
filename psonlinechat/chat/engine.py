"""One app's chat engine: the broker, the operators and the conversations, made once.

:func:`chat_for` builds it on first use and keeps it in ``state.services["chat"]``;
:func:`shutdown` stops it. The sockets (:mod:`psonlinechat.web.sockets.routes`) work through it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from psonlinechat.chat.broker import from_settings
from psonlinechat.chat.conversations import Conversations
from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.operators import Operators
from psonlinechat.store import operators as operator_repo, shops

if TYPE_CHECKING:
    from psonlinechat.web.extension import ChatState

_SERVICE = "chat"
_HOSTS_TTL = 30.0


class Chat:
    """One app's chat engine: broker, operators, conversations (``state.services["chat"]``)."""

    def __init__(self, state: ChatState) -> None:
        from psonlinechat.store.guests import create_guest

        s = state.settings
        self.state = state
        self.broker = from_settings(s.redis_url, s.database_url or "", s.table_prefix)
        self.ctx = ChatContext(engine=state.engine, tables=state.tables, broker=self.broker,
                               settings=s, module_settings=state.module_settings,
                               create_guest=create_guest)
        self.operators = Operators(self.ctx)
        self.conversations = Conversations(self.ctx, self.operators)
        self._hosts: tuple[float, set[str]] = (0.0, set())

    def shop_hosts(self) -> set[str]:
        """Every host of the shop's ``shop_url`` rows (cached for 30 seconds)."""
        at, hosts = self._hosts
        if time.monotonic() - at > _HOSTS_TTL:
            with self.ctx.connect() as conn:
                hosts = {host.lower() for host in shops.shop_hosts(conn, self.ctx.tables)}
            self._hosts = (time.monotonic(), hosts)
        return hosts

    def operators_present(self, conn: Any, id_shop: int) -> list[int]:
        """The ids of the shop's employees present now (switch on, a live socket)."""
        return operator_repo.present_ids(conn, self.ctx.tables, id_shop,
                                         self.operators.presence())

    def close(self) -> None:
        """Stop the sweeper and the broker."""
        self.operators.close()
        self.broker.close()


def chat_for(state: ChatState) -> Chat:
    """The app's :class:`Chat`, made on first use.

    :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
    """
    chat = state.services.get(_SERVICE)
    if chat is None:
        state.tables  # noqa: B018 - detect the schema first: it takes the same lock
        with state._lock:
            chat = state.services.get(_SERVICE)
            if chat is None:
                chat = state.services[_SERVICE] = Chat(state)
    return chat


def shutdown(state: ChatState) -> None:
    """Stop the app's chat engine if it was started (tests, worker exit)."""
    chat = state.services.pop(_SERVICE, None)
    if chat is not None:
        chat.close()
