"""The blueprint: HTTP routes of the module (thin: parse, authorise, call, render).

Not called ``views.py``: ``psonlinechat.views`` is the templates and assets package
(``views/`` in the repository), and a module of the same name would hide it.

Templates are looked up as ``psonlinechat/<hook|front|admin>/<name>.html``: a host app
overrides one by placing a file at the same path in its own templates folder, as a
PrestaShop theme overrides a module's templates.

While the shop's database is out of reach (a :class:`~psonlinechat.errors.ShopError`, see
:data:`~psonlinechat.web.outage.DATABASE_FAILURES`), every route of the blueprint,
the socket handshakes included, answers ``503 Service Unavailable`` with ``Retry-After``,
and the log gets one line per outage (:mod:`psonlinechat.web.outage`).
"""

from __future__ import annotations

import importlib.resources
from typing import Any

import jinja2
from flask import Blueprint, Response, abort, request, send_from_directory

from psonlinechat.web.outage import DATABASE_FAILURES, RETRY_AFTER_SECONDS, Outage
from psonlinechat.web.state import ChatState

#: Asset folders served by the blueprint; nothing else under ``views/`` is reachable.
ASSET_FOLDERS = ("css", "js", "img")


def views_path() -> str:
    """The installed ``psonlinechat.views`` folder."""
    return str(importlib.resources.files("psonlinechat.views"))


class ChatBlueprint(Blueprint):
    """A blueprint whose templates live under the ``psonlinechat/`` prefix.

    ``outage`` tells whether the shop's database is out of reach as the blueprint's
    requests last saw it (its routes and sockets log through it).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outage = Outage()

    @property
    def jinja_loader(self) -> jinja2.BaseLoader:  # type: ignore[override]
        return jinja2.PrefixLoader(
            {"psonlinechat": jinja2.FileSystemLoader(views_path() + "/templates")}
        )


def create_blueprint(state: ChatState) -> ChatBlueprint:
    """Build the module's blueprint for one app.

    :param state: the app's bridge state.
    """
    bp = ChatBlueprint("psonlinechat", __name__)

    @bp.get("/assets/<folder>/<path:filename>")
    def asset(folder: str, filename: str):
        """Serve one CSS, JS or image file of the module; 404 for anything else."""
        if folder not in ASSET_FOLDERS:
            abort(404)
        return send_from_directory(views_path() + "/" + folder, filename, max_age=3600)

    def database_out_of_reach(exc: Exception) -> Response:
        """``503`` with ``Retry-After``; one log line per outage, no traceback."""
        bp.outage.failed(exc)
        return unavailable()

    for failure in DATABASE_FAILURES:
        bp.register_error_handler(failure, database_out_of_reach)

    @bp.after_request
    def database_answers(response: Response) -> Response:
        """A route that needs the database answered: the outage, if any, is over. (Not
        the assets, which need none; nor a socket, which ends long after its handshake
        said so.)"""
        if (response.status_code < 500 and request.endpoint != f"{bp.name}.asset"
                and request.headers.get("Upgrade", "").lower() != "websocket"):
            bp.outage.recovered()
        return response

    return bp


def unavailable() -> Response:
    """The answer while the shop's database is out of reach."""
    return Response("The chat cannot reach the shop's database just now; try again "
                    "shortly.\n", 503, {"Retry-After": str(RETRY_AFTER_SECONDS)},
                    mimetype="text/plain")
