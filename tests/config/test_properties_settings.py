"""Properties of settings.load (hypothesis): any value for any key gives Settings or a
ConfigError naming a key, never another exception.
"""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from psonlinechat import config as psettings
from psonlinechat.errors import ConfigError

FAST = settings(max_examples=200, deadline=None, database=None)
DB = {"PSONLINECHAT_DATABASE_URL": "mysql+pymysql://u@127.0.0.1/shop"}

values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=60),
    st.lists(st.text(max_size=20), max_size=3), st.binary(max_size=10),
    st.sampled_from(["0", "1", "-1", "1e400", "nan", "inf", " 7 ", "9" * 5000, "yes", "/",
                     "/x/", "mysql://[::1]/db", "redis://h:6379/0", "ps_", "a" * 33]),
)


def _urlsplit_raises(value) -> bool:
    # Known bug, see test_malformed_urls_are_a_config_error below.
    if not isinstance(value, str):
        return False
    try:
        urllib.parse.urlsplit(value.strip())
    except ValueError:
        return True
    return False


@FAST
@given(key=st.sampled_from(psettings.KEYS), value=values)
@example(key=psettings.KEYS_BY_NAME["POOL_SIZE"], value=float("inf"))
@example(key=psettings.KEYS_BY_NAME["RATE_WINDOW"], value=float("nan"))
def test_any_value_for_any_key_gives_settings_or_config_error(key, value):
    assume(not (key.kind == "url" and _urlsplit_raises(value)))
    config = {**DB, key.config_name: value}
    try:
        loaded = psettings.load(config)
    except ConfigError as exc:
        assert exc.key.startswith("PSONLINECHAT_")
        return
    assert psettings.validate_table_prefix(loaded.table_prefix) == loaded.table_prefix


@FAST
@given(config=st.dictionaries(st.sampled_from([key.config_name for key in psettings.KEYS]),
                              values, max_size=6))
def test_any_mix_of_keys_gives_settings_or_config_error(config):
    assume(not any(psettings.KEYS_BY_NAME[name[len("PSONLINECHAT_"):]].kind == "url"
                   and _urlsplit_raises(value) for name, value in config.items()))
    try:
        psettings.load(config)
    except ConfigError as exc:
        assert exc.key.startswith("PSONLINECHAT_")


@pytest.mark.parametrize("key, value", [("DATABASE_URL", "mysql://[::1/db"),
                                        ("REDIS_URL", "redis://[x"),
                                        ("DATABASE_URL", "mysql://h\uff03x/db")])
def test_malformed_urls_are_a_config_error(key, value):
    with pytest.raises(ConfigError) as info:
        psettings.load({**DB, f"PSONLINECHAT_{key}": value})
    assert info.value.key == f"PSONLINECHAT_{key}"


def test_a_table_prefix_with_a_trailing_newline_is_refused():
    with pytest.raises(ConfigError):
        psettings.validate_table_prefix("ps_\n")


@pytest.mark.parametrize("key, value", [("POOL_SIZE", "1_0"), ("POOL_SIZE", "\u0661\u0662"),
                                        ("POOL_SIZE", "+5"), ("RATE_WINDOW", "inf"),
                                        ("RATE_WINDOW", "1e400"), ("HEARTBEAT_SECONDS", "nan")])
def test_numbers_must_be_plain_and_finite(key, value):
    with pytest.raises(ConfigError) as info:
        psettings.load({**DB, f"PSONLINECHAT_{key}": value})
    assert info.value.key == f"PSONLINECHAT_{key}"
