"""parameters.php is read as data: var_export syntax, escapes, %% and clear errors."""

from __future__ import annotations

import pathlib

import pytest
import sqlalchemy as sa

from psonlinechat import config as settings
from psonlinechat.errors import ConfigError
from psonlinechat.prestashop import parameters

# What PrestaShop 9.1's installer writes (var_export), with a password holding every trap.
REAL_9X = r"""<?php return array (
  'parameters' => 
  array (
    'database_host' => '127.0.0.1',
    'database_port' => '',
    'database_name' => 'prestashop',
    'database_user' => 'shop',
    'database_password' => 'p@ss:w/o\'rd%%50\\#?&',
    'database_prefix' => 'ps_',
    'database_engine' => 'InnoDB',
    'mailer_transport' => 'smtp',
    'mailer_host' => '127.0.0.1',
    'mailer_user' => NULL,
    'mailer_password' => NULL,
    'secret' => 'CpZ0VbOcg1ebjKpGHcSk7C0rWTXI9Yx8xH2Om8HM1bQ2uN9jY6fZ2l0sDpvY3H3q',
    'ps_caching' => 'CacheMemcache',
    'ps_cache_enable' => false,
    'ps_creation_date' => '2025-11-20',
    'locale' => 'en-US',
    'use_debug_toolbar' => true,
    'cookie_key' => 'hB3r0Sx8l9wXaVv0Nn6QpD2fK7gM1cJ4tZ5yE8uR3iO6aS9dF2gH1jK4lL7zX0cV',
    'cookie_iv' => 'aBcDeFgH1234%%5678',
    'new_cookie_key' => 'def00000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fc8bd80416dc6496a3834f9792dfed9fae0cdfcb55b5231ed6489b86a4322d302',
    'api_public_key' => '-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
-----END PUBLIC KEY-----
',
    'trusted_proxies' => 
    array (
      0 => '10.0.0.1',
      1 => '10.0.0.2',
    ),
    'max_connections' => 150,
  ),
);
"""  # noqa: W291, E501 - verbatim: var_export ends "=> " lines with a space


def write(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    config = tmp_path / "app" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "parameters.php").write_text(text, encoding="utf-8")
    return tmp_path


def test_reads_a_real_9x_file(tmp_path):
    params = parameters.read(write(tmp_path, REAL_9X))
    assert params.database_host == "127.0.0.1"
    assert params.database_port is None
    assert params.database_name == "prestashop"
    assert params.database_password == "p@ss:w/o'rd%50\\#?&"
    assert params.database_prefix == "ps_"
    assert params.cookie_iv == "aBcDeFgH1234%5678"
    assert params.new_cookie_key == (
        "def00000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "c8bd80416dc6496a3834f9792dfed9fae0cdfcb55b5231ed6489b86a4322d302"
    )
    assert params.other["trusted_proxies"] == {0: "10.0.0.1", 1: "10.0.0.2"}
    assert params.other["ps_cache_enable"] is False
    assert params.other["use_debug_toolbar"] is True
    assert params.other["mailer_user"] is None
    assert params.other["max_connections"] == 150
    assert params.other["api_public_key"].count("\n") == 3


def test_database_url_round_trips_awkward_credentials(tmp_path):
    params = parameters.read(write(tmp_path, REAL_9X))
    url = sa.engine.make_url(params.as_settings()["database_url"])
    assert url.drivername == "mysql+pymysql"
    assert url.username == "shop"
    assert url.password == "p@ss:w/o'rd%50\\#?&"
    assert (url.host, url.port, url.database) == ("127.0.0.1", None, "prestashop")


@pytest.mark.parametrize("host, port, expected", [
    ("localhost", None, ("localhost", None, {})),
    ("db.internal:3307", None, ("db.internal", 3307, {})),
    ("db.internal", "3308", ("db.internal", 3308, {})),
    ("db.internal:3307", "3309", ("db.internal", 3309, {})),
    ("localhost:/run/mysqld/mysqld.sock", None,
     ("localhost", None, {"unix_socket": "/run/mysqld/mysqld.sock"})),
    ("/run/mysqld/mysqld.sock", None,
     ("localhost", None, {"unix_socket": "/run/mysqld/mysqld.sock"})),
])
def test_host_port_and_socket_forms(host, port, expected):
    params = parameters.ShopParameters(host, port, "shop", "u", "", "ps_", "k", "n", "iv")
    url = sa.engine.make_url(params.database_url())
    assert (url.host, url.port, dict(url.query)) == expected
    assert url.password is None


def test_as_settings_feeds_settings_load_and_explicit_settings_win(tmp_path):
    shop = parameters.read(write(tmp_path, REAL_9X)).as_settings()
    assert set(shop) == {"database_url", "table_prefix", "cookie_key", "new_cookie_key",
                         "cookie_iv"}
    loaded = settings.load({}, shop_parameters=shop)
    assert loaded.table_prefix == "ps_"
    assert loaded.cookie_iv == "aBcDeFgH1234%5678"
    explicit = settings.load({"PSONLINECHAT_TABLE_PREFIX": "other_",
                              "PSONLINECHAT_DATABASE_URL": "mysql://a@b/c"}, shop_parameters=shop)
    assert explicit.table_prefix == "other_"
    assert explicit.database_url == "mysql://a@b/c"


def test_double_quotes_short_arrays_comments_and_int_port():
    text = """<?php
    // edited by hand
    return [
      "parameters" => [ /* inline */
        "database_host" => "db\\x41\\tz",
        "database_port" => 3306,
        "database_name" => "shop",
        "database_user" => "root",
        "database_password" => "a\\"b\\\\c\\$d 100%%",
        "database_prefix" => 'shop7_',
        "cookie_key" => 'k', "new_cookie_key" => 'n', "cookie_iv" => 'i',  # trailing
      ],
    ];
    ?>
    """
    params = parameters.from_text(text)
    assert params.database_host == "dbA\tz"
    assert params.database_port == "3306"
    assert params.database_password == 'a"b\\c$d 100%'
    assert params.database_prefix == "shop7_"


def test_single_quote_backslashes_other_than_escapes_stay_literal():
    assert parameters.parse(r"<?php return array ('a' => 'x\ny\\z\'q');") == {"a": "x\\ny\\z'q"}


def test_nested_arrays_and_implicit_indexes():
    value = parameters.parse(
        "<?php return array('a' => array('b' => array(1, 2, 5 => 3, 4)), 'c' => -2.5);")
    assert value == {"a": {"b": {0: 1, 1: 2, 5: 3, 6: 4}}, "c": -2.5}


def test_percent_unescaping_applies_to_nested_strings():
    text = REAL_9X.replace("0 => '10.0.0.1'", "0 => '10%%0'")
    params = parameters.from_text(text)
    assert params.other["trusted_proxies"][0] == "10%0"


@pytest.mark.parametrize("key", ["database_name", "database_prefix", "new_cookie_key", "cookie_iv"])
def test_missing_key_is_named(tmp_path, key):
    text = "\n".join(line for line in REAL_9X.splitlines() if f"'{key}'" not in line)
    with pytest.raises(ConfigError) as info:
        parameters.read(write(tmp_path, text))
    assert info.value.key == "PSONLINECHAT_PRESTASHOP_ROOT"
    assert key in str(info.value)


def test_empty_prefix_is_refused():
    with pytest.raises(ConfigError, match="empty database_prefix"):
        parameters.from_text(
            REAL_9X.replace("'database_prefix' => 'ps_'", "'database_prefix' => ''"))


def test_bad_port_is_refused():
    with pytest.raises(ConfigError, match="database_port"):
        parameters.from_text(REAL_9X.replace("'database_port' => ''", "'database_port' => 'abc'"))


@pytest.mark.parametrize("text, line", [
    ("<?php return array (\n 'parameters' =>\n array (\n 'a' => 'b' 'c',\n),\n);", 4),
    ("<?php return array (\n 'parameters' => array (\n 'a' => $secret,\n ));", 3),
    ("<?php return array (\n 'parameters' => array (\n 'a' => \"x$y\",\n ));", 3),
    ("<?php\nreturn array (\n 'parameters' => array (\n 'a' => 'unterminated,\n ));", 4),
    ("<?php\n\nreturn array ('parameters' => array());\necho 'x';", 4),
    ("<?php\n$x = 1;", 2),
])
def test_garbage_names_the_line(text, line):
    with pytest.raises(ConfigError) as info:
        parameters.from_text(text)
    assert info.value.key == "PSONLINECHAT_PRESTASHOP_ROOT"
    assert f"line {line}" in str(info.value)


def test_no_parameters_array():
    with pytest.raises(ConfigError, match="no 'parameters' array"):
        parameters.from_text("<?php return array ('other' => array ());")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ConfigError, match="has no app/config/parameters.php") as info:
        parameters.read(tmp_path)
    assert info.value.key == "PSONLINECHAT_PRESTASHOP_ROOT"
    with pytest.raises(ConfigError, match="not a folder"):
        parameters.read(tmp_path / "nowhere")


def test_only_yml_gives_a_hint(tmp_path):
    (tmp_path / "app" / "config").mkdir(parents=True)
    (tmp_path / "app" / "config" / "parameters.yml").write_text("parameters: {}\n")
    with pytest.raises(ConfigError, match="parameters.yml"):
        parameters.read(tmp_path)


def test_binary_file_is_a_config_error(tmp_path):
    root = write(tmp_path, "")
    (root / "app" / "config" / "parameters.php").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot be read"):
        parameters.read(root)
