"""The resume tokens' secret: its own key, the app's SECRET_KEY, never the database URL."""

from __future__ import annotations

import pytest
from flask import Flask

from psonlinechat import config
from psonlinechat.chat.tokens import ResumeTokens
from psonlinechat.errors import ConfigError
from psonlinechat.prestashop.cookies import make_key_string

DB = {"PSONLINECHAT_DATABASE_URL": "mysql+pymysql://u:pw@127.0.0.1/shop"}


def test_own_key_wins_over_the_apps():
    settings = config.from_mapping({**DB, "PSONLINECHAT_SECRET_KEY": "ours-0123456789",
                                    "SECRET_KEY": "the-apps"})
    assert settings.token_secret() == "ours-0123456789"


def test_the_apps_secret_key_stands_in():
    app = Flask("x")
    app.config.update(DB, SECRET_KEY="flask-secret-abc")
    assert config.from_mapping(app.config).token_secret() == "flask-secret-abc"
    app.config["SECRET_KEY"] = b"\x00\x01raw"
    assert config.from_mapping(app.config).token_secret() == b"\x00\x01raw".hex()


def test_derived_from_the_cookie_key_when_nothing_else_is_set():
    cookie_key = make_key_string()
    settings = config.from_mapping({**DB, "PSONLINECHAT_NEW_COOKIE_KEY": cookie_key})
    secret = settings.token_secret()
    assert secret not in (cookie_key, DB["PSONLINECHAT_DATABASE_URL"])
    assert len(secret) == 64
    # the same on every worker: a function of the shop's key alone
    assert config.from_mapping({**DB, "PSONLINECHAT_NEW_COOKIE_KEY": cookie_key}).token_secret() \
        == secret


def test_no_secret_at_all_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match="PSONLINECHAT_SECRET_KEY"):
        config.from_mapping(DB).token_secret()


def test_the_database_url_never_signs_tokens():
    """A token signed the old way (key from the database URL) is not accepted any more."""
    settings = config.from_mapping({**DB, "PSONLINECHAT_SECRET_KEY": "s3cret-s3cret"})
    old = ResumeTokens(DB["PSONLINECHAT_DATABASE_URL"]).issue()
    assert not ResumeTokens(settings.token_secret()).is_ours(old)
    assert ResumeTokens(settings.token_secret()).is_ours(
        ResumeTokens("s3cret-s3cret").issue())


def test_environment_reads_the_key():
    values = config.from_environ({"PSONLINECHAT_SECRET_KEY": "from-env", "OTHER": "x",
                                  "PSONLINECHAT_DATABASE_URL": ""}, database_url="sqlite://")
    assert values == {"PSONLINECHAT_SECRET_KEY": "from-env", "PSONLINECHAT_DATABASE_URL": "sqlite://"}


def test_serve_refuses_to_start_without_a_token_secret():
    from psonlinechat.serve.command import ServeOptions, check_options

    with pytest.raises(ConfigError, match="PSONLINECHAT_SECRET_KEY"):
        check_options(ServeOptions(), config.from_mapping(DB))
    check_options(ServeOptions(), config.from_mapping({**DB, "SECRET_KEY": "app-secret"}))
