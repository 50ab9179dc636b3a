"""The chat core without Flask: one app's engine over a fresh MariaDB shop, with what it
publishes and what it tells the plugins recorded."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from psonlinechat import config, testing
from psonlinechat.chat.broker import InMemoryBroker
from psonlinechat.chat.engine import Chat
from psonlinechat.shop import installer
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Visitor
from psonlinechat.store import engine as store_engine
from tests.support import shopdb


class RecordingBroker(InMemoryBroker):
    """The in-process broker, keeping ``(channel, event)`` of every publication."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.published.append((channel, event))
        super().publish(channel, event)


class Core:
    """A Flask-free chat engine over ``db``, an operator online, a visitor of the shop.

    ``broker.published`` holds what the sockets were told, ``actions`` what the plugins'
    ``action_*`` hooks were told, as ``(name, kwargs)``.
    """

    def __init__(self, db: shopdb.ShopDatabase, **settings: Any) -> None:
        self.db = db
        values = db.config(PSONLINECHAT_SECRET_KEY=secrets.token_hex(16), **{
            "PSONLINECHAT_" + key.upper(): value for key, value in settings.items()})
        s = config.from_mapping(values)
        self.shop = ShopDatabase(s, store_engine.create_engine(s))
        self.actions: list[tuple[str, dict[str, Any]]] = []
        self.chat = Chat(self.shop, actions=lambda name, **event: self.actions.append(
            (name, event)))
        self.broker = RecordingBroker()
        self.chat.broker = self.chat.ctx.broker = self.broker
        with db.engine.begin() as conn:
            self.id_employee = testing.add_employee(
                conn, db.tables, email=f"op-{secrets.token_hex(4)}@example.test")
        self.visitor = Visitor(id_shop=db.ids["shop"], id_lang=db.ids["en"])

    @property
    def id_shop(self) -> int:
        return self.db.ids["shop"]

    def operator_online(self) -> None:
        self.chat.operators.socket_opened(self.id_employee, self.id_shop)
        self.chat.operators.set_status(self.id_employee, self.id_shop, True)

    def forget(self) -> None:
        """Conversations, presence and what was recorded go: the next test starts quiet."""
        t = self.db.tables
        with self.db.engine.begin() as conn:
            for table in (t.message, t.conversation, t.operator, t.shop_lock):
                conn.execute(table.delete())
        self.broker.published.clear()
        self.actions.clear()

    def close(self) -> None:
        self.chat.close()
        self.shop.engine.dispose()


@pytest.fixture(scope="module")
def core_db(mariadb):
    """A seeded shop with the module installed, for one test module."""
    db = shopdb.create("ps_")
    installer.install(db.engine, db.tables)
    yield db
    db.drop()


@pytest.fixture
def core(core_db):
    """A fresh :class:`Core` over the module's shop, an operator online; forgotten after."""
    made = Core(core_db, heartbeat_seconds=10)
    made.operator_online()
    made.broker.published.clear()
    made.actions.clear()
    yield made
    made.forget()
    made.close()
