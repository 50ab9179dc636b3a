"""Command line: ``psonlinechat install | uninstall | upgrade | serve | demo``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .demo.command import demo_command
from .serving import serve_command

flask_group = AppGroup("psonlinechat", help="PrestaShop Online Chat: install, upgrade, serve.")


@click.group()
def main() -> None:
    """PrestaShop Online Chat as a Flask blueprint."""


main.add_command(serve_command)
main.add_command(demo_command)
