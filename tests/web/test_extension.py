"""The extension: set-up, settings validation, lazy connection, survival of dropped connections."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from flask import Flask

from psonlinechat import ConfigError, OnlineChat, ShopError, get_state
from tests.support import shopdb
from tests.support.apps import closed_after_test


def make_app(**config) -> Flask:
    """An app with ``config`` only (the test sets OnlineChat up), its engine closed after."""
    app = Flask(__name__)
    app.config.update(config)
    return closed_after_test(app)


def test_init_app_registers_blueprint_and_state(ps_db):
    app = make_app(**ps_db.config())
    chat = OnlineChat()
    chat.init_app(app)
    state = get_state(app)
    assert state.settings.table_prefix == "ps_"
    assert state.settings.url_prefix == "/psonlinechat"
    assert "psonlinechat" in app.blueprints
    assert any(rule.rule.startswith("/psonlinechat/") for rule in app.url_map.iter_rules())


def test_init_twice_is_refused(ps_db):
    app = make_app(**ps_db.config())
    OnlineChat(app)
    with pytest.raises(RuntimeError, match="already has an OnlineChat"):
        OnlineChat(app)


def test_url_prefix_setting_moves_the_blueprint(ps_db):
    app = make_app(**ps_db.config(PSONLINECHAT_URL_PREFIX="/modules/chat"))
    OnlineChat(app)
    assert any(rule.rule.startswith("/modules/chat/") for rule in app.url_map.iter_rules())


def test_missing_database_names_the_key():
    with pytest.raises(ConfigError) as caught:
        OnlineChat(make_app())
    assert caught.value.key == "PSONLINECHAT_DATABASE_URL"
    assert "PSONLINECHAT_PRESTASHOP_ROOT" in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PSONLINECHAT_POOL_SIZE", "many"),
        ("PSONLINECHAT_POOL_SIZE", 0),
        ("PSONLINECHAT_TABLE_PREFIX", "ps_; DROP TABLE x"),
        ("PSONLINECHAT_TABLE_PREFIX", ""),
        ("PSONLINECHAT_REDIS_URL", "localhost"),
        ("PSONLINECHAT_HEARTBEAT_SECONDS", "-1"),
        ("PSONLINECHAT_RATE_LIMIT", "lots"),
        ("PSONLINECHAT_URL_PREFIX", "chat"),
        ("PSONLINECHAT_DATABASE_URL", "postgresql://u@h/db"),
        ("PSONLINECHAT_DATABASE_URL", "not a url"),
    ],
)
def test_malformed_setting_fails_at_start_naming_it(key, value):
    config = {"PSONLINECHAT_DATABASE_URL": "mysql://u@127.0.0.1/shop", key: value}
    with pytest.raises(ConfigError) as caught:
        OnlineChat(make_app(**config))
    assert caught.value.key == key
    assert key in str(caught.value)


def test_importing_and_init_open_no_connection():
    """A closed port as database: import and init_app must not touch it."""
    script = textwrap.dedent("""
        import socket, flask
        real = socket.socket.connect
        def refuse(self, address):
            raise AssertionError(f"connection attempted to {address}")
        socket.socket.connect = refuse
        import psonlinechat, psonlinechat.views, psonlinechat.store.tables
        app = flask.Flask("x")
        app.config["PSONLINECHAT_DATABASE_URL"] = "mysql://u@127.0.0.1:9/shop"
        psonlinechat.OnlineChat(app)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_unreachable_database_is_a_clear_shop_error():
    app = make_app(PSONLINECHAT_DATABASE_URL="mysql://root@127.0.0.1:9/shop")
    OnlineChat(app)
    with pytest.raises(ShopError, match="cannot reach the shop's database"):
        get_state(app).tables  # noqa: B018 - reading it detects the schema


def test_database_without_prestashop_tables_is_a_clear_shop_error(mariadb):
    database = shopdb.create("ps_", seed_shop=False)
    try:
        app = make_app(**database.config(PSONLINECHAT_TABLE_PREFIX="other_"))
        OnlineChat(app)
        with pytest.raises(ShopError, match="no PrestaShop tables with prefix 'other_'"):
            get_state(app).tables  # noqa: B018 - reading it detects the schema
    finally:
        database.drop()


def test_tables_follow_the_prefix(shop_db):
    app = make_app(**shop_db.config())
    OnlineChat(app)
    tables = get_state(app).tables
    assert tables.customer.name == shop_db.prefix + "customer"
    assert tables.conversation.name == shop_db.prefix + "psonlinechat_conversation"
    assert tables.features.session_dates is True


def test_pool_survives_connections_dropped_by_the_server(ps_db):
    """Pre-ping replaces pooled connections the server killed (as a restart does)."""
    app = make_app(**ps_db.config(PSONLINECHAT_POOL_SIZE=2))
    OnlineChat(app)
    engine = get_state(app).engine
    with engine.connect() as conn:
        first_id = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
    with shopdb.raw_connect() as admin, admin.cursor() as cur:
        cur.execute(f"KILL CONNECTION {int(first_id)}")
    with engine.connect() as conn:
        second_id = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
        charset = conn.execute(sa.text("SELECT @@character_set_connection")).scalar()
    assert second_id != first_id
    assert charset == "utf8mb4"


@pytest.mark.parametrize("key", ["not-a-key", "def00000" + "00" * 64,
                                 "abcd0000" + "11" * 64])
def test_unusable_cookie_key_fails_at_start(key):
    """A mistyped new_cookie_key would make every visitor anonymous: say so at start-up."""
    config = {"PSONLINECHAT_DATABASE_URL": "mysql://u@127.0.0.1/shop",
              "PSONLINECHAT_NEW_COOKIE_KEY": key}
    with pytest.raises(ConfigError) as caught:
        OnlineChat(make_app(**config))
    assert caught.value.key == "PSONLINECHAT_NEW_COOKIE_KEY"


@pytest.mark.parametrize(("url", "tls_off"), [
    ("mysql://u@127.0.0.1/shop", True),
    ("mysql://u@localhost/shop?unix_socket=/run/mysqld/mysqld.sock", True),
    ("mysql://u@[::1]/shop", True),
    ("mysql://u@db.example.com/shop", False),
    ("mysql://u@127.0.0.1/shop?ssl_ca=/etc/ca.pem", False),
])
def test_tls_is_skipped_only_where_it_protects_nothing(url, tls_off):
    from psonlinechat.store import engine as db

    args = db.connect_args(db.normalise_url(url))
    assert args.get("ssl_disabled", False) is tls_off
    assert args["connect_timeout"] == 5
