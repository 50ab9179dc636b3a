"""A shop with the module installed for the mail queue's tests, and its helpers."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from psonlinechat import config
from psonlinechat.shop import installer
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Visitor
from psonlinechat.store import configuration
from psonlinechat.store import engine as store_engine

NOTIFY = "owner@example.test"


class Clock:
    """Unix time that a test moves."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def installed(ps_db):
    """``ps_db`` with the module installed and a ShopDatabase over it."""
    installer.install(ps_db.engine, ps_db.tables)
    settings = config.from_mapping(ps_db.config())
    shop = ShopDatabase(settings, store_engine.create_engine(settings))
    yield ps_db, shop
    shop.engine.dispose()


@pytest.fixture
def mail_shop(installed):
    """The installed shop, its offline tables empty, mail going nowhere (method 3), the
    notification address :data:`NOTIFY`, the default fields; restored after the test."""
    db, shop = installed
    reset(db, shop)
    yield db, shop
    reset(db, shop)


def reset(db, shop) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.delete(db.tables.mail))
        conn.execute(sa.delete(db.tables.offline_message))
    set_config(db, PS_MAIL_METHOD="3", PS_LANG_DEFAULT=str(db.ids["en"]),
               PS_SHOP_NAME="Test shop", PS_SHOP_EMAIL="shop@example.test")
    with shop.connect() as conn:
        shop.settings_store.save(conn, db.tables, db.ids["shop"], {
            "offline_mode": True, "notify_email": NOTIFY,
            "offline_fields": {"firstname": "requested", "lastname": "requested",
                               "email": "required", "phone": "hidden", "message": "required"}})
        conn.commit()


def set_config(db, **values: str) -> None:
    """Write PrestaShop configuration keys globally."""
    with db.engine.begin() as conn:
        for name, value in values.items():
            configuration.update_value(conn, db.tables, name, value)


def smtp_config(db, port: int, encryption: str = "off", user: str = "",
                password: str = "") -> None:
    set_config(db, PS_MAIL_METHOD="2", PS_MAIL_SERVER="127.0.0.1", PS_MAIL_SMTP_PORT=str(port),
               PS_MAIL_SMTP_ENCRYPTION=encryption, PS_MAIL_USER=user, PS_MAIL_PASSWD=password)


def visitor_of(db, **fields) -> Visitor:
    return Visitor(id_shop=db.ids["shop"], id_lang=db.ids["en"], **fields)


def rows(db, table: str) -> list:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(getattr(db.tables, table))))


def wait_until(predicate, timeout: float = 15.0, what: str = "the mail"):
    """Poll ``predicate()`` until it is true (its value), failing after ``timeout`` seconds:
    the app's mail sender works in its own thread."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} never came ({timeout:g} s)")
        time.sleep(0.02)


def received(server, count: int = 1) -> list:
    """The messages ``server`` received once it has ``count`` of them (no more expected)."""
    return wait_until(lambda: len(server.messages) >= count and server.messages,
                      what=f"{count} mails")
