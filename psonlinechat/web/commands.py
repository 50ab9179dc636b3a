"""``flask psonlinechat install | uninstall | upgrade | mail ...``: the module's commands in a
host app.

The actions (:func:`install`, :func:`uninstall`, :func:`upgrade`) take the app's
:class:`~psonlinechat.web.extension.ChatState` and return one line to print; the console
script (:mod:`psonlinechat.console`) runs the same actions on an app of its own. The group
reaches the app's state through ``current_app.extensions``, never through the console.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from psonlinechat.errors import PsOnlineChatError
from psonlinechat.shop import installer
from psonlinechat.store import offline_messages
from psonlinechat.web.state import EXTENSION_NAME, ChatState

flask_group = AppGroup("psonlinechat",
                       help="PrestaShop Online Chat: install, uninstall, upgrade, mail.")

UNINSTALL_WARNING = ("This drops the module's tables (every conversation, message and offline "
                     "message) and deletes its settings. Continue?")


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
        return (f"psonlinechat is up to date on {_where(state)} "
                f"(schema version {report.schema_version}).")
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


def send_pending(state: ChatState, *, retry_failed: bool = False) -> str:
    """Send the due queued mails now (first making the failed ones pending again when
    ``retry_failed``); the summary line. The app's mail sender does the same by itself
    (:mod:`psonlinechat.mail.sender`): this is for a mail an operator wants out at once."""
    queue = state.mail.queue()
    requeued = queue.requeue_failed() if retry_failed else 0
    report = queue.send_pending()
    again = f"{requeued} failed mails requeued; " if retry_failed else ""
    return (f"{again}{report.sent} mails sent, {report.retrying} to retry later, "
            f"{report.failed} given up, {report.skipped} taken by another sender.")


def list_mail(state: ChatState, *, state_filter: str | None = None, limit: int = 50) -> str:
    """The newest queued mails, one per line: id, state, attempts, dates, last error."""
    with state.shop.connect() as conn:
        rows = offline_messages.listing(conn, state.tables, state_filter, limit)
    if not rows:
        return "No mails queued."
    lines = [f"{'id':>6}  {'state':<8} {'tries':>5}  {'queued (UTC)':<19}  "
             f"{'next / sent (UTC)':<19}  last error"]
    for row in rows:
        when = row.date_sent if row.state == "sent" else row.next_attempt_at
        lines.append(f"{row.id_mail:>6}  {row.state:<8} {row.attempts:>5}  "
                     f"{row.date_add:%Y-%m-%d %H:%M:%S}  {when:%Y-%m-%d %H:%M:%S}  "
                     f"{' '.join((row.last_error or '-').split())}")
    return "\n".join(lines)


mail_group = AppGroup("mail", help="The offline messages' mail queue.")
flask_group.add_command(mail_group)
#: The options of ``mail send-pending`` and ``mail list``, shared with the console script.
RETRY_FAILED = click.option("--retry-failed", is_flag=True,
                            help="First make the failed mails pending again.")
STATE = click.option("--state", "state_filter", type=click.Choice(offline_messages.STATES),
                     help="Only mails in this state.")
LIMIT = click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True,
                     help="How many of the newest mails.")


@mail_group.command("send-pending")
@RETRY_FAILED
def flask_send_pending(retry_failed: bool) -> None:
    """Send the queued mails that are due now (the app's sender does it by itself)."""
    _in_host_app(functools.partial(send_pending, retry_failed=retry_failed))


@mail_group.command("list")
@STATE
@LIMIT
def flask_list_mail(state_filter: str | None, limit: int) -> None:
    """List the newest queued mails: state, attempts, last error."""
    _in_host_app(functools.partial(list_mail, state_filter=state_filter, limit=limit))
