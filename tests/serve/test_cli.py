"""The ``psonlinechat`` and ``flask psonlinechat`` commands, against MariaDB."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from flask import Flask

from psonlinechat import console as cli
from psonlinechat.prestashop.cookies import make_key_string
from psonlinechat.shop import settings as ms
from psonlinechat.store import configuration, module
from psonlinechat.store import tables as tables_module
from psonlinechat.web.extension import OnlineChat
from tests.support import shopdb


def own_tables(db):
    return sorted(n for n in sa.inspect(db.engine).get_table_names() if "psonlinechat" in n)


def installed_keys(db):
    with db.engine.connect() as conn:
        return configuration.get_many(conn, db.tables, ms.all_keys())


def shop_args(db):
    return ["--database-url", db.url, "--table-prefix", db.prefix]


def test_install_upgrade_uninstall_with_options(shop_db, runner):
    result = runner.invoke(cli.main, ["install", *shop_args(shop_db)])
    assert result.exit_code == 0, result.output
    assert f"prefix {shop_db.prefix}" in result.output and (
        f"schema version {tables_module.SCHEMA_VERSION}." in result.output)
    assert own_tables(shop_db) == sorted(t.name for t in shop_db.tables.own_tables)
    assert len(installed_keys(shop_db)) == len(ms.all_keys())

    result = runner.invoke(cli.main, ["upgrade", *shop_args(shop_db)])
    assert result.exit_code == 0 and "up to date" in result.output

    result = runner.invoke(cli.main, ["uninstall", *shop_args(shop_db)], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert own_tables(shop_db)

    result = runner.invoke(cli.main, ["uninstall", *shop_args(shop_db)], input="y\n")
    assert result.exit_code == 0, result.output
    assert own_tables(shop_db) == [] and installed_keys(shop_db) == {}


def test_environment_variables_are_the_defaults(shop_db, runner):
    env = {"PSONLINECHAT_DATABASE_URL": shop_db.url, "PSONLINECHAT_TABLE_PREFIX": shop_db.prefix}
    result = runner.invoke(cli.main, ["install"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli.main, ["uninstall", "--yes"], env=env)
    assert result.exit_code == 0 and "tables dropped" in result.output
    assert own_tables(shop_db) == []


def test_prestashop_root_supplies_the_database(shop_db, runner, tmp_path):
    shop_db.write_parameters_php(tmp_path, new_cookie_key=make_key_string(), cookie_iv="iv")
    result = runner.invoke(cli.main, ["install", "--prestashop-root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with shop_db.engine.connect() as conn:
        assert module.schema_version(conn, shop_db.tables) == tables_module.SCHEMA_VERSION
    result = runner.invoke(cli.main, ["uninstall", "--yes"],
                           env={"PSONLINECHAT_PRESTASHOP_ROOT": str(tmp_path)})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, message", [
    (["--database-url", "mysql+pymysql://root@127.0.0.1:1/shop"],
     "cannot reach the shop's database"),
    (["--table-prefix", "nothere_"], "no PrestaShop tables with prefix 'nothere_'"),
    (["--table-prefix", "bad prefix"], "PSONLINECHAT_TABLE_PREFIX"),
    (["--database-url", "postgresql://x@y/z"], "PrestaShop runs on MySQL or MariaDB"),
    (["--database-url", "", "--table-prefix", ""], "PSONLINECHAT_DATABASE_URL is required"),
    (["--prestashop-root", "/nonexistent/shop"], "PSONLINECHAT_PRESTASHOP_ROOT"),
])
@pytest.mark.parametrize("command", ["install", "upgrade", "uninstall"])
def test_errors_are_one_line_and_status_1(shop_db, runner, args, message, command):
    base = {"--database-url": shop_db.url, "--table-prefix": shop_db.prefix}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [command, *[x for k, v in {**base, **given}.items() for x in (k, v)]]
    if "--prestashop-root" in given:
        argv = [command, *args]
    if command == "uninstall":
        argv.append("--yes")
    result = runner.invoke(cli.main, argv)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_serve_options_reach_the_settings(runner):
    # Checked in the master before gunicorn starts: the URL given as an option is what lets
    # the settings pass, so the refusal is the next check's (one worker per Redis-less shop).
    result = runner.invoke(cli.main, ["serve", "--workers", "2", "--database-url",
                                      "mysql+pymysql://root@127.0.0.1:1/shop"],
                           env={"PSONLINECHAT_SECRET_KEY": "s" * 32})
    assert result.exit_code == 1 and "needs PSONLINECHAT_REDIS_URL" in result.output

    result = runner.invoke(cli.main, ["serve", "--prestashop-root", "/nonexistent/shop"])
    assert result.exit_code == 1 and "PSONLINECHAT_PRESTASHOP_ROOT" in result.output


def test_upgrade_before_install_says_so(shop_db, runner):
    result = runner.invoke(cli.main, ["upgrade", *shop_args(shop_db)])
    assert result.exit_code == 1 and "psonlinechat install" in result.output


def test_uninstall_when_not_installed_says_so(shop_db, runner):
    result = runner.invoke(cli.main, ["uninstall", "--yes", *shop_args(shop_db)])
    assert result.exit_code == 0, result.output
    assert "was not installed" in result.output and "nothing to remove" in result.output


def test_flask_group_in_a_host_app(shop_db, runner):
    app = Flask("host")
    app.config.update(shop_db.config())
    OnlineChat(app)
    flask_runner = app.test_cli_runner()
    result = flask_runner.invoke(args=["psonlinechat", "install"])
    assert result.exit_code == 0, result.output
    assert own_tables(shop_db)
    result = flask_runner.invoke(args=["psonlinechat", "upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output
    result = flask_runner.invoke(args=["psonlinechat", "uninstall"], input="n\n")
    assert result.exit_code == 1 and own_tables(shop_db)
    result = flask_runner.invoke(args=["psonlinechat", "uninstall", "--yes"])
    assert result.exit_code == 0 and own_tables(shop_db) == []


def test_flask_group_reports_an_unreachable_database(runner):
    app = Flask("host")
    app.config["PSONLINECHAT_DATABASE_URL"] = "mysql+pymysql://root@127.0.0.1:1/shop"
    OnlineChat(app)
    result = app.test_cli_runner().invoke(args=["psonlinechat", "install"])
    assert result.exit_code == 1 and "cannot reach the shop's database" in result.output


def test_console_script_exits_1_with_one_line(mariadb):
    script = [sys.executable, "-c", "from psonlinechat.console import main; main()"]
    done = subprocess.run([*script, "install", "--database-url",
                           "mysql+pymysql://root@127.0.0.1:1/shop"],
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("Error: cannot reach the shop's database")
    assert len(done.stderr.strip().splitlines()) == 1
    assert shopdb.MARIADB["host"] == "127.0.0.1"
