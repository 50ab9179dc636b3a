"""Command line: ``psonlinechat install | uninstall | upgrade | serve | demo``.

``main`` is the ``psonlinechat`` console script: it builds a Flask app with
:class:`~psonlinechat.web.extension.OnlineChat` from the ``PSONLINECHAT_*`` environment
variables and the options given, so settings are validated exactly as in a host app.
``flask_group`` offers the same commands as ``flask psonlinechat ...`` inside a host app
(registered by ``init_app``). Failures print one line on stderr and exit with status 1.
Other modules add their commands with ``main.add_command(...)``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from psonlinechat.shop import installer
from psonlinechat.errors import PsOnlineChatError

from psonlinechat.demo.command import demo_command
from psonlinechat.serve.command import serve_command

flask_group = AppGroup("psonlinechat", help="PrestaShop Online Chat: install, upgrade, serve.")


@click.group()
def main() -> None:
    """PrestaShop Online Chat as a Flask blueprint."""


def fail(message: str) -> None:
    """Print ``message`` as one line on stderr and exit with status 1."""
    raise click.ClickException(" ".join(str(message).split()))


def build_app(prestashop_root: str | None = None, database_url: str | None = None,
              table_prefix: str | None = None) -> Flask:
    """A Flask app with OnlineChat configured from the environment and these options.

    :raises ConfigError: a setting is missing or malformed.
    """
    from psonlinechat.web.extension import OnlineChat

    app = Flask("psonlinechat")
    app.config.update({name: value for name, value in os.environ.items()
                       if name.startswith("PSONLINECHAT_")})
    for name, value in (("PRESTASHOP_ROOT", prestashop_root), ("DATABASE_URL", database_url),
                        ("TABLE_PREFIX", table_prefix)):
        if value:
            app.config["PSONLINECHAT_" + name] = value
    OnlineChat(app)
    return app


def shop_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options naming the shop; each defaults to its PSONLINECHAT_* variable."""
    options = [
        click.option("--prestashop-root", envvar="PSONLINECHAT_PRESTASHOP_ROOT",
                     type=click.Path(file_okay=False),
                     help="The shop's folder (reads app/config/parameters.php). "
                          "[env: PSONLINECHAT_PRESTASHOP_ROOT]"),
        click.option("--database-url", envvar="PSONLINECHAT_DATABASE_URL",
                     help="SQLAlchemy URL of the shop's database; wins over parameters.php. "
                          "[env: PSONLINECHAT_DATABASE_URL]"),
        click.option("--table-prefix", envvar="PSONLINECHAT_TABLE_PREFIX",
                     help="The shop's table prefix; wins over parameters.php. "
                          "[env: PSONLINECHAT_TABLE_PREFIX]"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run(app: Flask, action: Callable[[Any], str]) -> None:
    """Run ``action(state)`` and print its summary; errors become one line and status 1."""
    from psonlinechat.web.extension import get_state

    state = get_state(app)
    try:
        click.echo(action(state))
    except PsOnlineChatError as exc:
        fail(str(exc))
    except sa.exc.SQLAlchemyError as exc:
        fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    finally:
        state.engine.dispose()


def _where(state: Any) -> str:
    url = sa.engine.make_url(state.settings.database_url or "")
    return f"{url.database or url.host} (prefix {state.tables.prefix})"


def _install(state: Any) -> str:
    report = installer.install(state.engine, state.tables)
    upgraded = f", upgraded to {report.upgraded_to}" if report.upgraded_to else ""
    return (f"Installed psonlinechat on {_where(state)}: {len(report.created_tables)} tables "
            f"created, {len(report.written_keys)} settings written{upgraded}; "
            f"schema version {report.schema_version}.")


def _uninstall(state: Any) -> str:
    report = installer.uninstall(state.engine, state.tables)
    if not report.dropped_tables and not report.deleted_rows:
        return f"psonlinechat was not installed on {_where(state)}: nothing to remove."
    return (f"Uninstalled psonlinechat from {_where(state)}: {len(report.dropped_tables)} "
            f"tables dropped, {report.deleted_rows} configuration rows deleted.")


def _upgrade(state: Any) -> str:
    report = installer.upgrade(state.engine, state.tables)
    if not report.upgraded_to:
        return f"psonlinechat is up to date on {_where(state)} (schema version {report.schema_version})."
    return (f"Upgraded psonlinechat on {_where(state)} through versions "
            f"{', '.join(map(str, report.upgraded_to))}; schema version {report.schema_version}.")


UNINSTALL_WARNING = ("This drops the module's tables (every conversation and message) and "
                     "deletes its settings. Continue?")


def _standalone(action: Callable[[Any], str]) -> Callable[..., None]:
    @functools.wraps(action)
    def run(prestashop_root: str | None, database_url: str | None,
            table_prefix: str | None, **_: Any) -> None:
        try:
            app = build_app(prestashop_root, database_url, table_prefix)
        except PsOnlineChatError as exc:
            fail(str(exc))
        _run(app, action)
    return run


@main.command("install")
@shop_options
def install_command(**options: Any) -> None:
    """Create the module's tables and default settings (harmless to run again)."""
    _standalone(_install)(**options)


@main.command("uninstall")
@shop_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def uninstall_command(yes: bool, **options: Any) -> None:
    """Drop the module's tables and delete its settings."""
    if not yes:
        click.confirm(UNINSTALL_WARNING, abort=True)
    _standalone(_uninstall)(**options)


@main.command("upgrade")
@shop_options
def upgrade_command(**options: Any) -> None:
    """Bring the module's tables to this version's schema."""
    _standalone(_upgrade)(**options)


def _in_host_app(action: Callable[[Any], str]) -> None:
    from flask import current_app

    _run(current_app._get_current_object(), action)  # type: ignore[attr-defined]


@flask_group.command("install")
def flask_install() -> None:
    """Create the module's tables and default settings (harmless to run again)."""
    _in_host_app(_install)


@flask_group.command("uninstall")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def flask_uninstall(yes: bool) -> None:
    """Drop the module's tables and delete its settings."""
    if not yes:
        click.confirm(UNINSTALL_WARNING, abort=True)
    _in_host_app(_uninstall)


@flask_group.command("upgrade")
def flask_upgrade() -> None:
    """Bring the module's tables to this version's schema."""
    _in_host_app(_upgrade)


main.add_command(serve_command)
main.add_command(demo_command)
