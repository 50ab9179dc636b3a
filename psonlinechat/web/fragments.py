"""A hook's HTML for a shop page: the Python call and the HTTP endpoint.

A ``display_*`` hook's fragment reaches a page three ways: :func:`render_hook` (a Python
call, with any WSGI environ), ``GET <prefix>/hook/<name>`` (registered by :func:`register`,
for a shop or its proxy to include) and :class:`~psonlinechat.web.inject.FragmentInjector`
(a WSGI middleware). The fragment is the joined answer of every plugin, HTML as they gave
it; who the visitor or employee is comes from the request's own cookies and headers.

Hooks are named as PrestaShop spells them (``displayFooter``) or as the hook specification
does (``display_footer``); :data:`HOOK_NAMES` maps the one to the other.
"""

from __future__ import annotations

from typing import Any

import flask
from flask import Blueprint, Response, abort
from markupsafe import Markup

from psonlinechat import hookspecs
from psonlinechat.web.state import EXTENSION_NAME, ChatState

#: Seconds a browser may keep a storefront fragment (private caching only).
MAX_AGE = 30
#: The request headers a fragment depends on: identity (the shop's cookies) and language.
VARY = ("Cookie", "Accept-Language")


def _prestashop_name(spec_name: str) -> str:
    """``display_back_office_header`` -> ``displayBackOfficeHeader``."""
    first, *rest = spec_name.split("_")
    return first + "".join(word.title() for word in rest)


#: PrestaShop's name of each ``display_*`` hook to its specification's name.
HOOK_NAMES: dict[str, str] = {
    _prestashop_name(name): name for name in sorted(vars(hookspecs))
    if name.startswith("display_") and callable(getattr(hookspecs, name))}

#: The hooks whose fragment depends on the back-office employee: never cached.
BACK_OFFICE_HOOKS = frozenset(
    name for name in HOOK_NAMES.values() if name.startswith("display_back_office_"))


def spec_name(name: str) -> str:
    """The specification's name of the display hook ``name`` (either spelling).

    :raises ValueError: there is no such display hook.
    """
    if name in HOOK_NAMES:
        return HOOK_NAMES[name]
    if name in HOOK_NAMES.values():
        return name
    known = ", ".join(HOOK_NAMES)
    raise ValueError(f"no display hook named {name!r}; the hooks are {known}")


def render_hook(app: flask.Flask, name: str,
                environ: dict[str, Any] | None = None) -> Markup:
    """The HTML of the display hook ``name`` for a request: every plugin's answer joined,
    as markup (it is HTML, inserted as is).

    :param app: the app :class:`~psonlinechat.OnlineChat` was set up on.
    :param name: ``displayHeader``, ``displayFooter``, ``displayBackOfficeHeader``,
        ``displayBackOfficeFooter``, or the same in snake case (``display_footer``).
    :param environ: the WSGI environ of the page's request (its cookies and headers say who
        is there); no Flask request is needed. Default: the current Flask request's.
    :raises ValueError: there is no display hook called ``name``.
    :raises RuntimeError: ``app`` has no OnlineChat, or no environ was given outside a request.
    :raises ShopError: the shop's database is unreachable.
    :raises Exception: whatever a plugin raised.
    """
    hook = spec_name(name)
    state = app.extensions.get(EXTENSION_NAME)
    if not isinstance(state, ChatState):
        raise RuntimeError("OnlineChat(app) was never called for this app")
    if environ is None:
        if not flask.has_request_context():
            raise RuntimeError("render_hook needs the request's WSGI environ outside a request")
        environ = flask.request.environ
    return Markup(state.display(hook, environ))


def register(bp: Blueprint, state: ChatState) -> None:
    """Add ``GET /hook/<name>`` (and ``HEAD``) to the module's blueprint: the fragment of the
    display hook PrestaShop calls ``name``, 404 for any other name.

    Answers ``text/html; charset=utf-8`` with ``Vary: Cookie, Accept-Language``; storefront
    fragments are ``Cache-Control: private, max-age=``:data:`MAX_AGE`, back-office ones
    ``private, no-store``. Call before the blueprint is registered.
    """

    @bp.get("/hook/<name>")
    def hook_fragment(name: str) -> Response:
        hook = HOOK_NAMES.get(name)
        if hook is None:
            abort(404)
        html = state.display(hook, flask.request.environ)
        response = Response(html, mimetype="text/html")
        response.vary.update(VARY)
        response.headers["Cache-Control"] = (
            "private, no-store" if hook in BACK_OFFICE_HOOKS else f"private, max-age={MAX_AGE}")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
