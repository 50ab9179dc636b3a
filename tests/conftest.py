"""Fixtures shared by the whole suite: real MariaDB shops with PrestaShop's schema."""

from __future__ import annotations

import os

import pymysql
import pytest
import redis

from tests.support import shopdb
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
