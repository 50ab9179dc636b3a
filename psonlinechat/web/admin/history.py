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
    """Add the history's routes to ``bp``."""

    @bp.get("/admin/history")
    def admin_history() -> Any:
        """One page of the history table."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            return _history_page(page, conn)

    @bp.get("/admin/history/count")
    def admin_history_count() -> Any:
        """How many lines the whole history has, as the page's script shows it."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            query = query_from(request.args, page.context.chosen.shop_ids)
            total = history.count(conn, state.tables, query)
            # the same msgids as the template's (extracted from there)
            return jsonify(total=total, text=page.locale.ngettext(
                "%(num)d line", "%(num)d lines", total),
                pages=max(1, math.ceil(total / PER_PAGE)))

    @bp.get("/admin/history/view")
    def admin_history_view() -> Any:
        """The whole exchange of one line, as the View dialog's content."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            chosen = page.context.chosen
            found = archived.exchange(conn, state.tables, request.args.get("line", ""),
                                      chosen.shop_ids)
            if not found:
                abort(404)
            return page.render("history_view.html", "admin_history", archived=found)

    @bp.post("/admin/history/delete")
    def admin_history_delete() -> Any:
        """Delete the lines posted (``lines``), once confirmed (``confirmed=1``)."""
        with state.shop.connect() as conn:
            page = open_page(state, conn)
            page.require_csrf()
            keys = [k for k in request.form.getlist("lines") if history.parse_key(k)]
            keys = keys[:MAX_DELETE]
            back = request.form.get("back") or ""
            if not keys:
                return redirect(page.url("admin_history"), code=303)
            if request.form.get("confirmed") != "1":
                return page.render("history_confirm.html", "admin_history", keys=keys,
                                   back=back)
            deleted = archived.delete(conn, state.tables, keys, page.context.chosen.shop_ids)
            conn.commit()
            return redirect(page.url("admin_history", deleted=str(deleted)), code=303)


def _history_page(page: Any, conn: sa.Connection) -> Any:
    t = page.state.tables
    query = query_from(request.args, page.context.chosen.shop_ids)
    lines, total, has_next = history.listing(conn, t, query)
    pages = None if total is None else max(1, math.ceil(total / PER_PAGE))
    deleted = request.args.get("deleted", "")
    return page.render("history.html", "admin_history", lines=lines, query=query,
                       total=total, pages=pages, has_next=has_next,
                       deleted=int(deleted) if deleted.isdigit() else None)
