"""The ``psonlinechat`` console script: ``install | uninstall | upgrade | mail | serve | demo |
prestashop-module | doctor``.

``main`` builds a Flask app with :class:`~psonlinechat.OnlineChat` from the
``PSONLINECHAT_*`` environment variables and the options given
(:func:`psonlinechat.config.from_environ`), so settings are validated exactly as in a
host app, then runs the actions of :mod:`psonlinechat.web.commands` on it. Failures print
one line on stderr and exit with status 1. This is the only module that imports
:mod:`psonlinechat.serve` and :mod:`psonlinechat.demo`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from psonlinechat import config
from psonlinechat.demo.command import demo_command
from psonlinechat.deploy import doctor, module_zip
from psonlinechat.errors import PsOnlineChatError
from psonlinechat.serve.command import serve_command
from psonlinechat.serve.wsgi import create_app
from psonlinechat.web import commands
from psonlinechat.web.extension import ChatState


@click.group()
def main() -> None:
    """PrestaShop Online Chat as a Flask blueprint."""


def build_app(prestashop_root: str | None = None, database_url: str | None = None,
              table_prefix: str | None = None) -> Flask:
    """A Flask app with OnlineChat configured from the environment and these options.

    :raises ConfigError: a setting is missing or malformed.
    """
    return create_app(config.from_environ(prestashop_root=prestashop_root,
                                          database_url=database_url,
                                          table_prefix=table_prefix))


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


def _standalone(action: Callable[[ChatState], str]) -> Callable[..., None]:
    @functools.wraps(action)
    def run(prestashop_root: str | None, database_url: str | None,
            table_prefix: str | None, **_: Any) -> None:
        try:
            app = build_app(prestashop_root, database_url, table_prefix)
        except PsOnlineChatError as exc:
            commands.fail(str(exc))
        commands.run(app, action)
    return run


@main.command("install")
@shop_options
def install_command(**options: Any) -> None:
    """Create the module's tables and default settings (harmless to run again)."""
    _standalone(commands.install)(**options)


@main.command("uninstall")
@shop_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def uninstall_command(yes: bool, **options: Any) -> None:
    """Drop the module's tables and delete its settings."""
    if not yes:
        click.confirm(commands.UNINSTALL_WARNING, abort=True)
    _standalone(commands.uninstall)(**options)


@main.command("upgrade")
@shop_options
def upgrade_command(**options: Any) -> None:
    """Bring the module's tables to this version's schema."""
    _standalone(commands.upgrade)(**options)


@main.group("mail")
def mail_command() -> None:
    """The offline messages' mail queue."""


@mail_command.command("send-pending")
@shop_options
@commands.RETRY_FAILED
def send_pending_command(retry_failed: bool, **options: Any) -> None:
    """Send the queued mails that are due now (a running server's sender does it by itself)."""
    _standalone(functools.partial(commands.send_pending, retry_failed=retry_failed))(**options)


@mail_command.command("list")
@shop_options
@commands.STATE
@commands.LIMIT
def list_mail_command(state_filter: str | None, limit: int, **options: Any) -> None:
    """List the newest queued mails: state, attempts, last error."""
    _standalone(functools.partial(commands.list_mail, state_filter=state_filter,
                                  limit=limit))(**options)


@main.command("prestashop-module")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The folder to write psonlinechat-<version>.zip into.")
def prestashop_module_command(out_dir: str) -> None:
    """Write the PrestaShop module's zip, to upload in the back office's Module Manager."""
    try:
        target = module_zip.write_zip(out_dir)
    except OSError as exc:
        commands.fail(f"cannot write the module's zip into {out_dir}: {exc}")
    click.echo(f"{target} ({target.stat().st_size} bytes): upload it in Modules > Module Manager "
               "> Upload a module, then open its Configure page.")


@main.command("doctor")
@shop_options
@click.option("--shop-url", required=True,
              help="The storefront's public address, as browsers reach it (https://shop.example/).")
@click.option("--timeout", type=float, default=5.0, show_default=True,
              help="Seconds each request may take.")
@click.option("--send-test-mail", "send_to", metavar="ADDRESS", default=None,
              help="Also send one test mail to ADDRESS (nothing is sent without it).")
def doctor_command(shop_url: str, timeout: float, send_to: str | None,
                   prestashop_root: str | None, database_url: str | None,
                   table_prefix: str | None) -> None:
    """Check the deployment from the outside, as a browser would; exit 1 on a problem."""
    settings = config.from_environ(prestashop_root=prestashop_root, database_url=database_url,
                                   table_prefix=table_prefix)
    try:
        findings = doctor.diagnose(settings, shop_url, timeout=timeout, send_to=send_to)
    except ValueError as exc:
        commands.fail(str(exc))
    click.echo(findings.report(shop_url))
    if findings.problems:
        raise SystemExit(1)


main.add_command(serve_command)
main.add_command(demo_command)
