"""Fixtures shared by the whole suite: real MariaDB shops with PrestaShop's schema."""

from __future__ import annotations

import os

import pymysql
import pytest

import shopdb

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def mariadb() -> None:
    """MariaDB must answer; without it CI fails and a laptop skips."""
    try:
        shopdb.raw_connect().close()
    except pymysql.err.OperationalError as exc:
        message = f"MariaDB is not reachable at {shopdb.MARIADB['host']}:{shopdb.MARIADB['port']}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


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
