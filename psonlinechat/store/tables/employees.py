"""PrestaShop's back-office people: ``employee``, its shops and its sessions."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.store.tables.columns import dates


def declare(md: sa.MetaData, p: str, *, session_dates: bool) -> dict[str, sa.Table]:
    """The employee tables for prefix ``p`` in ``md``.

    :param session_dates: ``employee_session`` has ``date_add``/``date_upd`` (8.0+).
    """
    employee = sa.Table(
        p + "employee", md,
        sa.Column("id_employee", sa.Integer, primary_key=True),
        sa.Column("id_profile", sa.Integer, nullable=False, default=1),
        sa.Column("id_lang", sa.Integer, nullable=False, default=0),
        sa.Column("lastname", sa.String(255), nullable=False),
        sa.Column("firstname", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("passwd", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=False),
    )
    employee_shop = sa.Table(
        p + "employee_shop", md,
        sa.Column("id_employee", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id_shop", sa.Integer, primary_key=True, autoincrement=False),
    )
    employee_session = sa.Table(
        p + "employee_session", md,
        sa.Column("id_employee_session", sa.Integer, primary_key=True),
        sa.Column("id_employee", sa.Integer, nullable=True),
        sa.Column("token", sa.String(40), nullable=True),
        *(dates() if session_dates else []),
    )
    return {"employee": employee, "employee_shop": employee_shop,
            "employee_session": employee_session}
