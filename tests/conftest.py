"""Fixtures shared by the whole suite, and the order it runs in.

Services (each fails in CI when missing, skips on a laptop): ``mariadb``, ``redis_url``,
``browser``. Shops: ``shop_db`` (a seeded PrestaShop database, once per table prefix),
``ps_db`` (``ps_`` only), ``keys`` (cookie secrets), ``chat_shop`` (a live chat shop for the
module) and ``shop`` (that shop, quiet again after each test). Apps: ``demo`` (the demo shop),
``live_server``, ``page``. Commands: ``runner``.

Order: tests that need no service come first, then those on MariaDB or Redis, then the slow
ones (marked ``slow``: wheels, subprocess servers, the browser). A test's needs are read from
the fixtures it uses, so a new test is placed without a list to keep. ``pytest -m "not slow"``
leaves the slow ones out.
"""

from __future__ import annotations

import os

import pymysql
import pytest
import redis
from click.testing import CliRunner

from psonlinechat import config, get_state, testing
from tests.support import shopdb
from tests.support.apps import close_apps
from tests.support.chatclient import ChatShop
from tests.support.services import unavailable

REDIS_URL = os.environ.get("PSONLINECHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def mariadb() -> None:
    """MariaDB must answer; without it CI fails and a laptop skips."""
    try:
        shopdb.raw_connect().close()
    except pymysql.err.OperationalError as exc:
        unavailable(f"MariaDB is not reachable at {shopdb.MARIADB['host']}:"
                    f"{shopdb.MARIADB['port']}: {exc}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis must answer (``PSONLINECHAT_TEST_REDIS_URL``).

    Without it CI fails and a laptop skips.
    """
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="module", params=["ps_", "shop7_"])
def shop_db(request, mariadb) -> shopdb.ShopDatabase:
    """A seeded PrestaShop 9.1 database, once with ``ps_`` and once with another prefix."""
    database = shopdb.create(request.param)
    yield database
    database.drop()


@pytest.fixture(scope="module")
def ps_db(mariadb) -> shopdb.ShopDatabase:
    """A seeded PrestaShop 9.1 database with the default ``ps_`` prefix only."""
    database = shopdb.create("ps_")
    yield database
    database.drop()


@pytest.fixture(scope="module")
def keys():
    """The shop's cookie secrets (``new_cookie_key``, ``cookie_iv``, ``cookie_key``)."""
    return testing.make_cookie_keys()


@pytest.fixture(autouse=True)
def _close_apps():
    """After each test, dispose the engines of the apps it gave to ``closed_after_test``."""
    yield
    close_apps()


# ---------------------------------------------------------------------------
# A live chat shop: a fresh database with the module installed, served on 127.0.0.1.
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chat_shop(request, mariadb) -> ChatShop:
    """One :class:`~tests.support.chatclient.ChatShop` per test module; the module's
    ``CHAT_SETTINGS`` dict, if any, gives its settings (``{"heartbeat_seconds": 5}`` is
    ``PSONLINECHAT_HEARTBEAT_SECONDS=5``)."""
    shop = ChatShop(**getattr(request.module, "CHAT_SETTINGS", {}))
    yield shop
    shop.close()


@pytest.fixture
def shop(chat_shop) -> ChatShop:
    """The module's chat shop, quiet again after the test: sockets closed, conversations,
    presence and setting changes forgotten."""
    yield chat_shop
    chat_shop.reset()


# ---------------------------------------------------------------------------
# The demo shop and the console.
# ---------------------------------------------------------------------------

@pytest.fixture
def demo(tmp_path):
    """The demo app on a temporary data folder (SQLite), its engine closed after."""
    from psonlinechat.demo.app import create_app

    app = create_app(tmp_path / "data")
    yield app
    get_state(app).engine.dispose()


@pytest.fixture
def runner(monkeypatch):
    """A Click runner for the console, with no PSONLINECHAT_* setting from the environment
    (the console reads every one of them)."""
    for key in config.KEYS:
        monkeypatch.delenv(key.config_name, raising=False)
    return CliRunner()


# ---------------------------------------------------------------------------
# Browser: a real headless Chromium (Playwright, sync API) and live servers.
# ---------------------------------------------------------------------------

CHROMIUM = os.environ.get("PSONLINECHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run; without it CI fails and a laptop skips."""
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page in a fresh context (no cookies shared between tests), closed after."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def live_server():
    """Start apps on real Werkzeug servers: ``server = live_server(app)``; all stopped after."""
    from tests.support.liveserver import LiveServer

    servers: list[LiveServer] = []

    def start(app, host: str = "127.0.0.1") -> LiveServer:
        server = LiveServer(app, host).start()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


# ---------------------------------------------------------------------------
# Order: no service first, then MariaDB and Redis, then the slow tests.
# ---------------------------------------------------------------------------

#: Fixtures that reach a service; a test needs one when its fixture closure holds one.
SERVICE_FIXTURES = frozenset({"mariadb", "redis_url", "browser"})


def tier(item: pytest.Item) -> int:
    """0: no service; 1: MariaDB or Redis; 2: slow (marked ``slow``, or a browser)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("slow") or "browser" in fixtures:
        return 2
    return 1 if fixtures & SERVICE_FIXTURES else 0


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that need no service first, then the others, then the slow ones.

    Last among the hooks, so pytest has already grouped the tests by their module fixtures;
    the sort is stable, so that grouping holds within each tier.
    """
    items.sort(key=tier)
