"""PrestaShop's session rows (``customer_session``, ``employee_session``): one shape, two tables.

``kind`` is ``"customer"`` or ``"employee"``: the table is ``<prefix><kind>_session``, its key
``id_<kind>_session`` and its owner ``id_<kind>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any, Literal

import sqlalchemy as sa

from psonlinechat.store.engine import inserted_id
from psonlinechat.store.tables import Tables

Kind = Literal["customer", "employee"]


def new_token() -> str:
    """A session token as PrestaShop makes one: 40 hexadecimal characters (sha1)."""
    return hashlib.sha1(os.urandom(32)).hexdigest()


def _table(t: Tables, kind: Kind) -> sa.Table:
    return getattr(t, f"{kind}_session")


def get(conn: sa.Connection, t: Tables, kind: Kind, id_session: int) -> sa.Row | None:
    """The session row ``id_session`` (its owner id and token), or ``None``."""
    c = _table(t, kind).c
    return conn.execute(
        sa.select(c[f"id_{kind}"], c.token).where(c[f"id_{kind}_session"] == id_session)
    ).first()


def with_session(conn: sa.Connection, t: Tables, kind: Kind, columns: list[sa.ColumnElement],
                 id_owner: int, id_session: int) -> sa.Row | None:
    """The account ``id_owner`` (``columns`` of its table) with ``session_owner`` and
    ``session_token`` of session row ``id_session`` (both ``None`` when that row does not
    exist, or the schema predates session tables), in one query; ``None`` without account.
    """
    account = getattr(t, kind)
    query = sa.select(*columns)
    if t.features.sessions:
        s = _table(t, kind)
        query = (query.add_columns(s.c[f"id_{kind}"].label("session_owner"),
                                   s.c.token.label("session_token"))
                 .select_from(account.outerjoin(s, s.c[f"id_{kind}_session"] == id_session)))
    else:
        query = query.add_columns(sa.null().label("session_owner"),
                                  sa.null().label("session_token"))
    return conn.execute(query.where(account.c[f"id_{kind}"] == id_owner)).first()


def create(conn: sa.Connection, t: Tables, kind: Kind, id_owner: int,
           now: dt.datetime | None = None) -> tuple[int, str]:
    """Insert a session row for ``id_owner`` (dates on 8.0+ schemas); its id and token."""
    token = new_token()
    row: dict[str, Any] = {f"id_{kind}": id_owner, "token": token}
    if t.features.session_dates:
        stamp = (now or dt.datetime.now()).replace(microsecond=0)
        row.update(date_add=stamp, date_upd=stamp)
    result = conn.execute(sa.insert(_table(t, kind)).values(row))
    return inserted_id(result), token


def delete(conn: sa.Connection, t: Tables, kind: Kind, id_session: int) -> None:
    """Delete a session row, as PrestaShop's logout does."""
    table = _table(t, kind)
    conn.execute(sa.delete(table).where(table.c[f"id_{kind}_session"] == id_session))
