"""Real PrestaShop databases for the tests: MariaDB with PrestaShop 9.1's own schema.

Each :class:`ShopDatabase` is a database of its own (``psoc_<random>``), loaded from
``../shared/prestashop/db_structure.sql`` with a given table prefix, seeded with a small
shop (one shop group, one shop on 127.0.0.1, English and French), and dropped afterwards.
Its ``signed_in_customer`` / ``signed_in_employee`` add an account and give its cookie.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import secrets
from typing import Any

import pymysql
import sqlalchemy as sa

from psonlinechat import testing
from psonlinechat.prestashop.cookies import CookieKeys
from psonlinechat.store import seed
from psonlinechat.store import tables as tables_module

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_FILE = pathlib.Path(
    os.environ.get("PSONLINECHAT_SCHEMA_FILE", REPO.parent / "shared/prestashop/db_structure.sql")
)
MARIADB = dict(host=os.environ.get("PSONLINECHAT_TEST_DB_HOST", "127.0.0.1"),
               port=int(os.environ.get("PSONLINECHAT_TEST_DB_PORT", "3306")),
               user=os.environ.get("PSONLINECHAT_TEST_DB_USER", "root"),
               password=os.environ.get("PSONLINECHAT_TEST_DB_PASSWORD", ""))
PS_VERSION = "9.1.0"
SHOP_EMAIL = "shop@example.test"
SHOP_DOMAIN = "127.0.0.1"


def server_url(database: str = "") -> str:
    auth = MARIADB["user"] + (":" + MARIADB["password"] if MARIADB["password"] else "")
    return f"mysql+pymysql://{auth}@{MARIADB['host']}:{MARIADB['port']}/{database}?charset=utf8mb4"


def raw_connect(database: str | None = None, **kwargs) -> pymysql.Connection:
    return pymysql.connect(database=database, charset="utf8mb4", autocommit=True,
                           connect_timeout=3, **MARIADB, **kwargs)


def schema_statements(prefix: str) -> list[str]:
    """The CREATE statements of PrestaShop's schema, placeholders replaced."""
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    text = (text.replace("PREFIX_", prefix).replace("ENGINE_TYPE", "InnoDB")
            .replace("COLLATION", "COLLATE utf8mb4_unicode_ci"))
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return [stmt.strip() for stmt in text.split(";\n") if stmt.strip()]


@dataclasses.dataclass
class ShopDatabase:
    """One seeded shop database; ``ids`` holds the ids of what was seeded."""

    name: str
    prefix: str
    url: str
    engine: sa.Engine
    tables: tables_module.Tables
    ids: dict[str, int]

    def config(self, **extra) -> dict:
        """Flask config for an app that bridges this shop."""
        return {"PSONLINECHAT_DATABASE_URL": self.url, "PSONLINECHAT_TABLE_PREFIX": self.prefix,
                **extra}

    def signed_in_customer(self, keys: CookieKeys, *, email: str, host: str = SHOP_DOMAIN,
                           **fields: Any) -> tuple[int, tuple[str, str]]:
        """A new customer (``fields`` for the account), signed in on ``host`` in English:
        ``(id_customer, (cookie_name, cookie_value))``."""
        with self.engine.begin() as conn:
            id_customer = testing.add_customer(conn, self.tables, email=email, **fields)
            cookie = testing.sign_in_customer(conn, self.tables, keys, host, id_customer,
                                              id_lang=self.ids["en"])
        return id_customer, cookie

    def signed_in_employee(self, keys: CookieKeys, *, email: str, host: str = SHOP_DOMAIN,
                           **fields: Any) -> tuple[int, tuple[str, str]]:
        """A new employee (``fields`` for the account), signed in to the back office on
        ``host``: ``(id_employee, (cookie_name, cookie_value))``."""
        with self.engine.begin() as conn:
            id_employee = testing.add_employee(conn, self.tables, email=email, **fields)
            cookie = testing.sign_in_employee(conn, self.tables, keys, host, id_employee)
        return id_employee, cookie

    def write_parameters_php(self, root: pathlib.Path, *, new_cookie_key: str,
                             cookie_iv: str) -> None:
        """Write ``root``/app/config/parameters.php, as PrestaShop's installer does, naming
        this database and these cookie keys."""
        url = sa.engine.make_url(self.url)
        config = root / "app" / "config"
        config.mkdir(parents=True)
        (config / "parameters.php").write_text(f"""<?php return array (
  'parameters' => array (
    'database_host' => '{url.host}', 'database_port' => '{url.port}',
    'database_name' => '{url.database}', 'database_user' => '{url.username}',
    'database_password' => '{url.password or ''}', 'database_prefix' => '{self.prefix}',
    'cookie_key' => 'k', 'new_cookie_key' => '{new_cookie_key}', 'cookie_iv' => '{cookie_iv}',
  ),
);""")

    def drop(self) -> None:
        self.engine.dispose()
        with raw_connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")


def create(prefix: str = "ps_", *, seed_shop: bool = True) -> ShopDatabase:
    """Create a database with PrestaShop's schema under ``prefix`` and seed a small shop."""
    name = "psoc_" + secrets.token_hex(6)
    with raw_connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    with raw_connect(name) as conn, conn.cursor() as cur:
        for statement in schema_statements(prefix):
            cur.execute(statement)
    url = server_url(name)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    tables = tables_module.build(prefix)
    ids: dict[str, int] = {}
    if seed_shop:
        with engine.begin() as conn:
            ids = seed_small_shop(conn, tables)
    return ShopDatabase(name, prefix, url, engine, tables, ids)


def seed_small_shop(conn: sa.Connection, t: tables_module.Tables) -> dict[str, int]:
    """One group, one shop on 127.0.0.1, English and French, PrestaShop's core keys."""
    group = seed.add_shop_group(conn, t, "Default")
    shop = seed.add_shop(conn, t, group, "Test shop", domain=SHOP_DOMAIN)
    en = seed.add_lang(conn, t, "en", "English (English)", [shop])
    fr = seed.add_lang(conn, t, "fr", "Français (French)", [shop])
    for name, value in {
        "PS_SHOP_NAME": "Test shop", "PS_SHOP_EMAIL": SHOP_EMAIL, "PS_SHOP_DEFAULT": str(shop),
        "PS_LANG_DEFAULT": str(en), "PS_VERSION_DB": PS_VERSION, "PS_TIMEZONE": "Europe/Paris",
        "PS_MAIL_METHOD": "3", "PS_MAIL_TYPE": "3", "PS_SSL_ENABLED": "0",
        "PS_COOKIE_CHECKIP": "1", "PS_COOKIE_LIFETIME_FO": "480", "PS_COOKIE_LIFETIME_BO": "480",
    }.items():
        seed.add_configuration(conn, t, name, value)
    return {"shop_group": group, "shop": shop, "en": en, "fr": fr}
