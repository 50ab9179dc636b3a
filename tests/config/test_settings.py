"""Deployment settings: every kind of bad value named by its key, and what fills the gaps."""

from __future__ import annotations

import pytest

from psonlinechat import config as settings
from psonlinechat.errors import ConfigError
from psonlinechat.prestashop.cookies import make_key_string

DB = {"PSONLINECHAT_DATABASE_URL": "mysql+pymysql://u@127.0.0.1/shop"}


def test_defaults():
    loaded = settings.load(DB)
    assert loaded.table_prefix == "ps_" and loaded.url_prefix == "/psonlinechat"
    assert loaded.pool_size == 10 and loaded.rate_window == 10.0
    assert loaded.allowed_origins == ()


def test_values_are_parsed():
    loaded = settings.load({**DB, "PSONLINECHAT_POOL_SIZE": "4",
                            "PSONLINECHAT_RATE_WINDOW": "2.5",
                            "PSONLINECHAT_TABLE_PREFIX": "shop7_",
                            "PSONLINECHAT_ALLOWED_ORIGINS": "https://a.test, ,https://b.test",
                            "PSONLINECHAT_URL_PREFIX": "/chat"})
    assert (loaded.pool_size, loaded.rate_window) == (4, 2.5)
    assert loaded.allowed_origins == ("https://a.test", "https://b.test")
    assert loaded.table_prefix == "shop7_" and loaded.url_prefix == "/chat"


@pytest.mark.parametrize("key, value", [
    ("POOL_SIZE", "many"), ("POOL_SIZE", "0"), ("POOL_SIZE", True), ("POOL_SIZE", "1.5"),
    ("RATE_WINDOW", "soon"), ("RATE_WINDOW", "0"), ("RATE_WINDOW", "-1"),
    ("HEARTBEAT_SECONDS", "often"), ("DATABASE_URL", "not a url"), ("DATABASE_URL", "   "),
    ("REDIS_URL", "localhost:6379"), ("TABLE_PREFIX", "ps-"), ("TABLE_PREFIX", "x" * 33),
    ("TABLE_PREFIX", "ps_; DROP"), ("URL_PREFIX", "chat"), ("URL_PREFIX", "/chat/"),
    ("ALLOWED_ORIGINS", 42), ("COOKIE_KEY", ""),
])
def test_bad_values_name_their_key(key, value):
    with pytest.raises(ConfigError) as info:
        settings.load({**DB, f"PSONLINECHAT_{key}": value})
    assert info.value.key == f"PSONLINECHAT_{key}"
    assert str(info.value).startswith(f"PSONLINECHAT_{key} ")


def test_a_database_is_required():
    with pytest.raises(ConfigError, match="PRESTASHOP_ROOT") as info:
        settings.load({})
    assert info.value.key == "PSONLINECHAT_DATABASE_URL"


SHOP_KEY, MY_KEY = make_key_string(b"s" * 32), make_key_string(b"m" * 32)


def test_shop_parameters_fill_gaps_and_explicit_settings_win():
    shop = {"database_url": "mysql+pymysql://shop@db/prestashop", "table_prefix": "ab_",
            "cookie_key": "ck", "new_cookie_key": SHOP_KEY, "cookie_iv": "", "unused": None}
    from_shop = settings.load({}, shop_parameters=shop)
    assert from_shop.database_url == shop["database_url"] and from_shop.table_prefix == "ab_"
    assert from_shop.new_cookie_key == SHOP_KEY and from_shop.cookie_iv is None
    explicit = settings.load({**DB, "PSONLINECHAT_TABLE_PREFIX": "cd_",
                              "PSONLINECHAT_NEW_COOKIE_KEY": MY_KEY}, shop_parameters=shop)
    assert explicit.database_url == DB["PSONLINECHAT_DATABASE_URL"]
    assert (explicit.table_prefix, explicit.new_cookie_key, explicit.cookie_key) == (
        "cd_", MY_KEY, "ck")


def test_a_bad_prefix_from_parameters_php_is_refused():
    with pytest.raises(ConfigError, match="PSONLINECHAT_TABLE_PREFIX"):
        settings.load({}, shop_parameters={"database_url": "mysql://a@b/c", "table_prefix": "a b"})


def test_every_key_has_a_settings_field():
    fields = settings.Settings.__dataclass_fields__
    for key in settings.KEYS:
        assert key.name.lower() in fields
        assert key.kind in {"str", "int", "float", "path", "url", "list"}
