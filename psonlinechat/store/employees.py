"""Employees and their ``employee_session`` rows (PrestaShop 1.7.6.6+)."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store import sessions
from psonlinechat.store.tables import Tables


def get_employee(conn: sa.Connection, t: Tables, id_employee: int) -> sa.Row | None:
    """The employee row (id, profile, language, names, email, passwd, active), or ``None``."""
    e = t.employee.c
    return conn.execute(
        sa.select(e.id_employee, e.id_profile, e.id_lang, e.firstname, e.lastname, e.email,
                  e.passwd, e.active)
        .where(e.id_employee == id_employee)
    ).first()


def get_signed_in(conn: sa.Connection, t: Tables, id_employee: int,
                  id_session: int) -> sa.Row | None:
    """The employee row (as :func:`get_employee`) with ``session_owner`` and ``session_token``
    of ``employee_session`` row ``id_session``, in one query; ``None`` without employee."""
    e = t.employee.c
    return sessions.with_session(
        conn, t, "employee", [e.id_employee, e.id_profile, e.id_lang, e.firstname, e.lastname,
                              e.email, e.passwd, e.active], id_employee, id_session)
