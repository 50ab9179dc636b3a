"""Operator presence (``psonlinechat_operator``): one row per employee and shop.

``online`` is the employee's switch. ``sockets`` counts the open operator sockets over
every worker and ``last_seen`` is refreshed by their heartbeats and when one closes. An
operator is *present* while ``online`` and either a socket is open and heartbeats are
fresh, or the last socket closed less than the grace period ago: see :func:`present`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from psonlinechat.store.tables import Tables


@dataclasses.dataclass(frozen=True)
class Presence:
    """What makes an operator present, as of ``now``.

    :param grace: seconds an operator stays present after the last socket closed.
    :param stale: seconds after which heartbeats are considered lost (a worker crashed).
    """

    now: dt.datetime
    grace: float
    stale: float


@dataclasses.dataclass(frozen=True)
class Operator:
    """One row of ``psonlinechat_operator``."""

    id_employee: int
    id_shop: int
    online: bool
    sockets: int
    last_seen: dt.datetime


def present(t: Tables, presence: Presence) -> sa.ColumnElement[bool]:
    """The SQL condition "switched online and still there"."""
    o = t.operator
    grace_cutoff = presence.now - dt.timedelta(seconds=presence.grace)
    stale_cutoff = presence.now - dt.timedelta(seconds=presence.stale)
    return sa.and_(o.c.online.is_(True), sa.or_(
        sa.and_(o.c.sockets > 0, o.c.last_seen >= stale_cutoff),
        o.c.last_seen >= grace_cutoff))


def _key(t: Tables, id_employee: int, id_shop: int) -> sa.ColumnElement[bool]:
    return sa.and_(t.operator.c.id_employee == id_employee, t.operator.c.id_shop == id_shop)


def get(conn: sa.Connection, t: Tables, id_employee: int, id_shop: int) -> Operator | None:
    """The operator's row, or ``None`` when the employee never opened the console."""
    o = t.operator
    row = conn.execute(sa.select(o.c.id_employee, o.c.id_shop, o.c.online, o.c.sockets,
                                 o.c.last_seen).where(_key(t, id_employee, id_shop))).first()
    return None if row is None else Operator(**row._mapping)


def socket_opened(conn: sa.Connection, t: Tables, id_employee: int, id_shop: int,
                  now: dt.datetime) -> Operator:
    """Count one more socket of the operator (creating the row, offline, if needed)."""
    o = t.operator
    if get(conn, t, id_employee, id_shop) is None:
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(o).values(id_employee=id_employee, id_shop=id_shop,
                                                 online=False, sockets=0, last_seen=now))
        except sa.exc.IntegrityError:
            pass  # the employee's other tab created it first
    conn.execute(sa.update(o).where(_key(t, id_employee, id_shop))
                 .values(sockets=o.c.sockets + 1, last_seen=now))
    operator = get(conn, t, id_employee, id_shop)
    assert operator is not None
    return operator


def socket_closed(conn: sa.Connection, t: Tables, id_employee: int, id_shop: int,
                  now: dt.datetime) -> None:
    """Count one socket fewer; the grace period starts from ``now``."""
    o = t.operator
    conn.execute(sa.update(o).where(_key(t, id_employee, id_shop)).values(
        sockets=sa.case((o.c.sockets > 0, o.c.sockets - 1), else_=0), last_seen=now))


def touch(conn: sa.Connection, t: Tables, id_employee: int, id_shop: int,
          now: dt.datetime) -> None:
    """A heartbeat: the operator's socket is alive at ``now``."""
    conn.execute(sa.update(t.operator).where(_key(t, id_employee, id_shop))
                 .values(last_seen=now))


def set_online(conn: sa.Connection, t: Tables, id_employee: int, id_shop: int, online: bool,
               now: dt.datetime) -> bool:
    """Flip the operator's switch; return whether it changed."""
    values: dict = {"online": online, "last_seen": now}
    if online:
        values["date_online"] = now
    result = conn.execute(sa.update(t.operator).where(
        _key(t, id_employee, id_shop), t.operator.c.online.is_(not online)).values(**values))
    return result.rowcount == 1


def present_ids(conn: sa.Connection, t: Tables, id_shop: int, presence: Presence) -> list[int]:
    """The employees present for the shop (see :func:`present`)."""
    o = t.operator
    stmt = (sa.select(o.c.id_employee).where(o.c.id_shop == id_shop, present(t, presence))
            .order_by(o.c.id_employee))
    return list(conn.execute(stmt).scalars())


def absent_but_online(conn: sa.Connection, t: Tables, presence: Presence) -> list[tuple[int, int]]:
    """``(id_employee, id_shop)`` of operators switched online who are no longer there."""
    o = t.operator
    stmt = sa.select(o.c.id_employee, o.c.id_shop).where(
        o.c.online.is_(True), sa.not_(present(t, presence)))
    return [(row[0], row[1]) for row in conn.execute(stmt)]


def take_offline_if_absent(conn: sa.Connection, t: Tables, id_employee: int, id_shop: int,
                           presence: Presence) -> bool:
    """Switch an absent operator offline; ``False`` if present again or already offline.

    The condition is checked by the UPDATE itself, so of several workers sweeping at once
    exactly one sees ``True``.
    """
    result = conn.execute(sa.update(t.operator).where(
        _key(t, id_employee, id_shop), t.operator.c.online.is_(True),
        sa.not_(present(t, presence))).values(online=False, sockets=0))
    return result.rowcount == 1
