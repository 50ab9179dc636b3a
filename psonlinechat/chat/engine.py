"""One app's chat engine: the broker, the operators and the conversations, made once.

It receives the shop's database as the shop layer gives it (settings, tables, a connect
function raising :class:`~psonlinechat.errors.ShopError`, the directory and the merchant's
settings store), never the Flask extension's state. The web layer makes one per app on
first use and stops it at exit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from psonlinechat.chat.broker import from_settings
from psonlinechat.chat.context import ChatContext
from psonlinechat.chat.conversations import Conversations
from psonlinechat.chat.operators import Operators
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import shops
from psonlinechat.store.guests import create_guest

_HOSTS_TTL = 30.0


class Chat:
    """One app's chat engine: broker, operators, conversations.

    :param shop: the shop's database; its tables are detected here if not yet.
    :param actions: ``actions(name, **event)``, called after a change commits, for the
        ``action_*`` hooks (default: nobody listens).
    :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
    """

    def __init__(self, shop: ShopDatabase, *, actions: Callable[..., None] | None = None) -> None:
        s = shop.settings
        self.shop = shop
        self.broker = from_settings(s.redis_url, s.database_url or "", s.table_prefix)
        self.ctx = ChatContext(connection=shop.connect, tables=shop.tables,
                               broker=self.broker, settings=s,
                               module_settings=shop.module_settings, create_guest=create_guest)
        if actions is not None:
            self.ctx.actions = actions
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

    def capacity(self) -> dict[str, Any]:
        """What the chat committed since the last call (the group commit's figures, see
        :meth:`~psonlinechat.chat.batch.CommitStats.take`) and its queue now: ``queued``
        (messages waiting for a batch) and ``waiting`` (handlers waiting for the database)."""
        posting = self.conversations.posting
        return {**posting.stats.take(), "queued": posting.queue.queued,
                "waiting": self.ctx.waiting}

    def close(self) -> None:
        """Stop the sweeper and the broker."""
        self.operators.close()
        self.broker.close()
