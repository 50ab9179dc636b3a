"""Employees and their ``employee_session`` rows (PrestaShop 1.7.6.6+)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from ..tables import Tables
from .customers import new_token


def get_employee(conn: sa.Connection, t: Tables, id_employee: int) -> sa.Row[Any] | None:
    """The employee row (id, profile, language, names, email, passwd, active), or ``None``."""
    e = t.employee.c
    return conn.execute(
        sa.select(e.id_employee, e.id_profile, e.id_lang, e.firstname, e.lastname, e.email,
                  e.passwd, e.active)
        .where(e.id_employee == id_employee)
    ).first()


def get_session(conn: sa.Connection, t: Tables, id_session: int) -> sa.Row[Any] | None:
    """The ``employee_session`` row ``id_session`` (id_employee, token), or ``None``."""
    s = t.employee_session.c
    return conn.execute(
        sa.select(s.id_employee, s.token).where(s.id_employee_session == id_session)
    ).first()


def create_session(conn: sa.Connection, t: Tables, id_employee: int,
                   now: dt.datetime | None = None) -> tuple[int, str]:
    """Insert a session row for ``id_employee`` (dates on 8.0+ schemas); its id and token."""
    token = new_token()
    row: dict[str, Any] = {"id_employee": id_employee, "token": token}
    if t.features.session_dates:
        stamp = (now or dt.datetime.now()).replace(microsecond=0)
        row.update(date_add=stamp, date_upd=stamp)
    result = conn.execute(sa.insert(t.employee_session).values(row))
    return int(result.inserted_primary_key[0]), token


def delete_session(conn: sa.Connection, t: Tables, id_session: int) -> None:
    """Delete a session row, as PrestaShop's logout does."""
    conn.execute(sa.delete(t.employee_session)
                 .where(t.employee_session.c.id_employee_session == id_session))
