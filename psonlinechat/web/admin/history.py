"""The "Conversation history" page (guide 3C): the archived conversations of the shops in
the employee's shop context, one line per guest conversation or per signed-in customer,
with search, sort by date, pagination, a "View" dialog and deletion after a confirmation.
The SQL is :mod:`psonlinechat.store.history`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, request

from psonlinechat.store import archived, history
from psonlinechat.web.state import ChatState

PER_PAGE = 20
#: The most lines one delete may name.
MAX_DELETE = 500


def query_from(args: Any, shop_ids: tuple[int, ...]) -> history.Query:
    """The history query the page's URL asks for."""
    try:
        number = max(1, min(int(args.get("page", "1")), 1_000_000))
    except ValueError:
        number = 1
    return history.Query(shop_ids, search=(args.get("q") or "")[:100],
                         newest_first=args.get("sort") != "asc", page=number,
                         per_page=PER_PAGE)


def register(bp: Blueprint, state: ChatState, open_page: Callable[..., Any]) -> None:
    """Add the history's routes to ``bp``: the page, its total, a line's exchange, and
    deletion."""

    def view(handler: Callable[[Any, sa.Connection], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with state.shop.connect() as conn:
                return handler(open_page(state, conn), conn)
        run.__doc__ = handler.__doc__
        return run

    bp.add_url_rule("/admin/history", "admin_history", view(_history_page))
    bp.add_url_rule("/admin/history/count", "admin_history_count", view(_count))
    bp.add_url_rule("/admin/history/view", "admin_history_view", view(_exchange))
    bp.add_url_rule("/admin/history/delete", "admin_history_delete", view(_delete),
                    methods=["POST"])


def _count(page: Any, conn: sa.Connection) -> Any:
    """How many lines the whole history has, as the page's script shows it."""
    query = query_from(request.args, page.context.chosen.shop_ids)
    total = history.count(conn, page.state.tables, query)
    # the same msgids as the template's (extracted from there)
    return jsonify(total=total, pages=max(1, math.ceil(total / PER_PAGE)),
                   text=page.locale.ngettext("%(num)d line", "%(num)d lines", total))


def _exchange(page: Any, conn: sa.Connection) -> Any:
    """The whole exchange of one line, as the View dialog's content."""
    found = archived.exchange(conn, page.state.tables, request.args.get("line", ""),
                              page.context.chosen.shop_ids)
    if not found:
        abort(404)
    return page.render("history_view.html", "admin_history", archived=found)


def _delete(page: Any, conn: sa.Connection) -> Any:
    """Delete the lines posted (``lines``), once confirmed (``confirmed=1``).

    :raises werkzeug.exceptions.HTTPException: 403 without a valid CSRF token.
    """
    page.require_csrf()
    keys = [k for k in request.form.getlist("lines") if history.parse_key(k)][:MAX_DELETE]
    if not keys:
        return redirect(page.url("admin_history"), code=303)
    if request.form.get("confirmed") != "1":
        return page.render("history_confirm.html", "admin_history", keys=keys)
    deleted = archived.delete(conn, page.state.tables, keys, page.context.chosen.shop_ids)
    conn.commit()
    return redirect(page.url("admin_history", deleted=str(deleted)), code=303)


def _history_page(page: Any, conn: sa.Connection) -> Any:
    """One page of the history table."""
    t = page.state.tables
    query = query_from(request.args, page.context.chosen.shop_ids)
    lines, total, has_next = history.listing(conn, t, query)
    pages = None if total is None else max(1, math.ceil(total / PER_PAGE))
    deleted = request.args.get("deleted", "")
    return page.render("history.html", "admin_history", lines=lines, query=query,
                       total=total, pages=pages, has_next=has_next,
                       deleted=int(deleted) if deleted.isdigit() else None)
