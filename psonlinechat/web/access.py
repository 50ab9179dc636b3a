"""Edge helpers: who makes the current request, and refusing those who may not.

- :func:`current_visitor` / :func:`authenticate_employee` ask the app's
  :class:`~psonlinechat.web.state.ChatState` (cookie-based or plugged identity), once per
  request.
- :func:`employee_required` decorates views: a page without an employee is redirected to
  ``PSONLINECHAT_ADMIN_LOGIN_URL`` (or gets a 401 page when it is unset); with ``api=True``
  the answer is a 401 JSON body.
- :func:`require_employee` returns the employee or aborts with 401. flask-sock upgrades the
  connection before the route's function runs, so socket routes are guarded with
  :func:`guard_sockets` (a ``before_request`` that calls ``require_employee("socket")``):
  a refused client gets a plain HTTP 401 and no socket.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, abort, g, jsonify, redirect, request

from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.web.state import get_state

_PAGE_401 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in required</title></head>
<body><main><h1>Sign-in required</h1>
<p>Sign in to the shop's back office, then reload this page.</p></main></body></html>
"""


def current_visitor() -> Visitor:
    """The storefront visitor of the current request (anonymous when nothing vouches).

    :raises ShopError: the database is unreachable.
    """
    return get_state().identify_visitor(request)


def authenticate_employee(req: Any = None) -> Employee | None:
    """The employee of ``req`` (default: the current request), or ``None``.

    :raises ShopError: the database is unreachable.
    """
    return get_state().identify_employee(req if req is not None else request)


def current_employee() -> Employee | None:
    """The employee that :func:`employee_required` or :func:`require_employee` let through."""
    return g.get("psonlinechat_employee")


def unauthorised(kind: str = "page") -> Response:
    """The answer to a request that needs an employee: ``page``, ``api`` or ``socket``."""
    if kind == "page":
        login_url = get_state().settings.admin_login_url
        if login_url:
            return redirect(login_url, code=302)
        return Response(_PAGE_401, status=401, mimetype="text/html")
    response = jsonify(error="unauthorized",
                       message="Sign in to the shop's back office first.")
    response.status_code = 401
    return response


def require_employee(kind: str = "api") -> Employee:
    """The current request's employee; aborts with :func:`unauthorised` (``kind``) otherwise.

    :raises werkzeug.exceptions.HTTPException: nobody the shop vouches for makes the request.
    """
    employee = authenticate_employee()
    if employee is None:
        abort(unauthorised(kind))
    g.psonlinechat_employee = employee
    return employee


def employee_required(view: Callable[..., Any] | None = None, *, api: bool = False) -> Any:
    """Decorator for views only employees may use: ``@employee_required`` for pages,
    ``@employee_required(api=True)`` for JSON endpoints.
    """
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_employee("api" if api else "page")
            return fn(*args, **kwargs)
        return wrapper

    return decorate(view) if view is not None else decorate


def guard_sockets(scaffold: Any, *endpoints: str) -> None:
    """Refuse, before the WebSocket upgrade, requests to ``endpoints`` of ``scaffold`` (an app
    or blueprint) that no employee makes; the employee is then :func:`current_employee`.
    """
    wanted = set(endpoints)

    def guard() -> None:
        if request.endpoint in wanted:
            require_employee("socket")

    scaffold.before_request(guard)
