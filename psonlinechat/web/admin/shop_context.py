"""The back office's shop context, as PrestaShop's multistore header offers it: all shops,
a group, or one shop (``?shop_context=`` empty, ``g-<id>`` or ``s-<id>``, as the
``shopContext`` field of the ``psAdmin`` cookie spells it). The Configuration page reads and
writes the merchant's settings at that level; the history lists the shops it covers.

An employee may pick a shop they serve (``employee_shop``, or any as a SuperAdmin), a group
whose every active shop they serve, and "all shops" when they serve every shop. While
multistore is off there is one level: the global one.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from psonlinechat.shop.identity import Employee
from psonlinechat.store import shop_tree
from psonlinechat.store.tables import Tables

ALL = ""


@dataclasses.dataclass(frozen=True)
class Level:
    """One level of the shop context: ``key`` ("", "g-1", "s-2"), its name and its shops."""

    key: str
    name: str
    shop_ids: tuple[int, ...]
    id_shop: int | None = None
    id_shop_group: int | None = None

    @property
    def kind(self) -> str:
        """``all``, ``group`` or ``shop``."""
        return "shop" if self.id_shop else "group" if self.id_shop_group else "all"


@dataclasses.dataclass(frozen=True)
class ShopContext:
    """The levels the employee may pick (empty: they serve no shop), the chosen one, and
    whether multistore is on (else only the global level is offered)."""

    levels: tuple[Level, ...]
    chosen: Level | None
    multistore: bool


def levels_for(conn: sa.Connection, t: Tables, employee: Employee, all_label: str,
               multistore_flag: bool) -> tuple[tuple[Level, ...], bool]:
    """The levels ``employee`` may pick, and whether multistore is on (its flag is set and
    there is more than one shop)."""
    every = shop_tree.active_shops(conn, t)
    allowed = shop_tree.served_shop_ids(conn, t, employee.id_employee, employee.id_profile)
    served = [e for e in every if allowed is None or e.id_shop in allowed]
    if not served:
        return (), False
    multistore = multistore_flag and len(every) > 1
    ids = tuple(e.id_shop for e in served)
    if not multistore:
        return (Level(ALL, all_label, ids),), False
    levels: list[Level] = []
    if len(served) == len(every):
        levels.append(Level(ALL, all_label, ids))
    members: dict[int, list[shop_tree.ShopEntry]] = {}
    for entry in every:
        members.setdefault(entry.id_shop_group, []).append(entry)
    for id_group, entries in members.items():
        mine = [e for e in entries if e in served]
        if mine and len(mine) == len(entries):
            levels.append(Level(f"g-{id_group}", entries[0].group_name,
                                tuple(e.id_shop for e in mine), id_shop_group=id_group))
        levels.extend(Level(f"s-{e.id_shop}", e.name, (e.id_shop,), id_shop=e.id_shop,
                            id_shop_group=id_group) for e in mine)
    return tuple(levels), True


def resolve(conn: sa.Connection, t: Tables, employee: Employee, wanted: str | None,
            all_label: str, multistore_flag: bool) -> ShopContext:
    """The shop context of ``employee`` with ``wanted`` chosen when they may pick it, else
    the widest level they may pick (``multistore_flag``: PS_MULTISHOP_FEATURE_ACTIVE)."""
    levels, multistore = levels_for(conn, t, employee, all_label, multistore_flag)
    chosen = next((level for level in levels if level.key == (wanted or "")), None)
    return ShopContext(levels, chosen or (levels[0] if levels else None), multistore)
