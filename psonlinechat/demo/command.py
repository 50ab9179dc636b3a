"""``psonlinechat demo``: run the demo shop with Werkzeug's threaded server.

It prints the storefront and back-office URLs and the demo accounts once the port is
bound (``--port 0`` takes any free port), then serves until Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import signal

import click
from werkzeug.serving import make_server

from psonlinechat.demo.app import ADMIN_PATH, create_app, credentials
from psonlinechat.errors import PsOnlineChatError
from psonlinechat.web.extension import get_state

_WILDCARDS = {"0.0.0.0", "::", ""}


def _browser_host(host: str) -> str:
    """The host to print: a wildcard address is reached through the loopback one."""
    if host in _WILDCARDS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def banner(app, base_url: str) -> str:
    """What the command prints once the shop is listening on ``base_url``."""
    customer, employee = credentials(app)
    folder = app.extensions["psonlinechat_demo"].folder
    return "\n".join([
        f"Demo shop running. Data: {folder.path} (Ctrl+C stops it; --reset starts afresh).",
        "",
        f"  Storefront:   {base_url}/",
        f"  Back office:  {base_url}{ADMIN_PATH}/",
        "",
        f"  Customer:  {customer.email}  password: {customer.password}  ({customer.name})",
        f"  Employee:  {employee.email}  password: {employee.password}  ({employee.name})",
        "",
        f"  Mail goes to {folder.outbox_path} as .eml files.",
        "",
    ])


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep 127.0.0.1 unless you know why).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--data", default="demo-data", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the shop's database, "
              "secrets and mail outbox (created when missing).")
@click.option("--reset", is_flag=True, help="Start from a freshly seeded shop.")
def demo_command(host: str, port: int, data: str, reset: bool) -> None:
    """Run a small demo shop with Online Chat on SQLite (storefront and back office)."""
    domain = _browser_host(host).strip("[]")
    try:
        app = create_app(data, reset=reset, domain=domain)
    except PsOnlineChatError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        # On a busy port Werkzeug says so and exits with status 1.
        server = make_server(host, port, app, threaded=True)
    except BaseException:
        get_state(app).engine.dispose()
        raise
    click.echo(banner(app, f"http://{_browser_host(host)}:{server.server_port}"))
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()  # returns on Ctrl+C (Werkzeug swallows KeyboardInterrupt)
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        get_state(app).engine.dispose()
    click.echo("Demo shop stopped.")
