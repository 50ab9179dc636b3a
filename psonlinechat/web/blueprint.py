"""The blueprint: HTTP routes of the module (thin: parse, authorise, call, render).

Not called ``views.py``: ``psonlinechat.views`` is the templates and assets package
(``views/`` in the repository), and a module of the same name would hide it.

Templates are looked up as ``psonlinechat/<hook|front|admin>/<name>.html``: a host app
overrides one by placing a file at the same path in its own templates folder, as a
PrestaShop theme overrides a module's templates.
"""

from __future__ import annotations

import importlib.resources

import jinja2
from flask import Blueprint, abort, send_from_directory

from psonlinechat.web.state import ChatState

#: Asset folders served by the blueprint; nothing else under ``views/`` is reachable.
ASSET_FOLDERS = ("css", "js", "img")


def views_path() -> str:
    """The installed ``psonlinechat.views`` folder."""
    return str(importlib.resources.files("psonlinechat.views"))


class ChatBlueprint(Blueprint):
    """A blueprint whose templates live under the ``psonlinechat/`` prefix."""

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

    return bp
