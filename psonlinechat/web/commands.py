"""``flask psonlinechat install | uninstall | upgrade``: the module's commands in a host app.

The actions (:func:`install`, :func:`uninstall`, :func:`upgrade`) take the app's
:class:`~psonlinechat.web.extension.ChatState` and return one line to print; the console
script (:mod:`psonlinechat.console`) runs the same actions on an app of its own. The group
reaches the app's state through ``current_app.extensions``, never through the console.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from psonlinechat.errors import PsOnlineChatError
from psonlinechat.shop import installer

from psonlinechat.web.state import EXTENSION_NAME, ChatState

flask_group = AppGroup("psonlinechat", help="PrestaShop Online Chat: install, upgrade, serve.")

UNINSTALL_WARNING = ("This drops the module's tables (every conversation and message) and "
                     "deletes its settings. Continue?")


def fail(message: str) -> None:
    """Print ``message`` as one line on stderr and exit with status 1."""
    raise click.ClickException(" ".join(str(message).split()))


def run(app: Flask, action: Callable[[ChatState], str]) -> None:
    """Run ``action(state)`` on ``app``'s bridge and print its summary; errors become one
    line and status 1. The engine's connections are closed afterwards.

    :raises click.ClickException: the action failed.
    """
    state = app.extensions[EXTENSION_NAME]
    try:
        click.echo(action(state))
    except PsOnlineChatError as exc:
        fail(str(exc))
    except sa.exc.SQLAlchemyError as exc:
        fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    finally:
        state.engine.dispose()


def _where(state: ChatState) -> str:
    url = sa.engine.make_url(state.settings.database_url or "")
    return f"{url.database or url.host} (prefix {state.tables.prefix})"


def install(state: ChatState) -> str:
    """Create the module's tables and default settings; the summary line."""
    report = installer.install(state.engine, state.tables)
    upgraded = f", upgraded to {report.upgraded_to}" if report.upgraded_to else ""
    return (f"Installed psonlinechat on {_where(state)}: {len(report.created_tables)} tables "
            f"created, {len(report.written_keys)} settings written{upgraded}; "
            f"schema version {report.schema_version}.")


def uninstall(state: ChatState) -> str:
    """Drop the module's tables and delete its settings; the summary line."""
    report = installer.uninstall(state.engine, state.tables)
    if not report.dropped_tables and not report.deleted_rows:
        return f"psonlinechat was not installed on {_where(state)}: nothing to remove."
    return (f"Uninstalled psonlinechat from {_where(state)}: {len(report.dropped_tables)} "
            f"tables dropped, {report.deleted_rows} configuration rows deleted.")


def upgrade(state: ChatState) -> str:
    """Bring the module's tables to this version's schema; the summary line."""
    report = installer.upgrade(state.engine, state.tables)
    if not report.upgraded_to:
        return f"psonlinechat is up to date on {_where(state)} (schema version {report.schema_version})."
    return (f"Upgraded psonlinechat on {_where(state)} through versions "
            f"{', '.join(map(str, report.upgraded_to))}; schema version {report.schema_version}.")


def _in_host_app(action: Callable[[ChatState], str]) -> None:
    run(current_app._get_current_object(), action)  # type: ignore[attr-defined]


@flask_group.command("install")
def flask_install() -> None:
    """Create the module's tables and default settings (harmless to run again)."""
    _in_host_app(install)


@flask_group.command("uninstall")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def flask_uninstall(yes: bool) -> None:
    """Drop the module's tables and delete its settings."""
    if not yes:
        click.confirm(UNINSTALL_WARNING, abort=True)
    _in_host_app(uninstall)


@flask_group.command("upgrade")
def flask_upgrade() -> None:
    """Bring the module's tables to this version's schema."""
    _in_host_app(upgrade)
