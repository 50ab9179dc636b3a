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
from psonlinechat.store import configuration, shop_tree
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


def levels_for(conn: sa.Connection, t: Tables, employee: Employee,
               all_label: str) -> tuple[tuple[Level, ...], bool]:
    """The levels ``employee`` may pick, and whether multistore is on."""
    served = shop_tree.served_shops(conn, t, employee.id_employee, employee.id_profile)
    if not served:
        return (), False
    multistore = configuration.multistore_active(conn, t)
    every = set(shop_tree.all_shop_ids(conn, t))
    ids = {entry.id_shop for entry in served}
    if not multistore:
        return (Level(ALL, all_label, tuple(sorted(ids))),), False
    levels: list[Level] = []
    if ids >= every:
        levels.append(Level(ALL, all_label, tuple(sorted(every))))
    groups: dict[int, list[shop_tree.ShopEntry]] = {}
    for entry in served:
        groups.setdefault(entry.id_shop_group, []).append(entry)
    full_groups = _full_groups(conn, t, groups)
    for id_group, entries in groups.items():
        if id_group in full_groups:
            levels.append(Level(f"g-{id_group}", entries[0].group_name,
                                tuple(e.id_shop for e in entries), id_shop_group=id_group))
        levels.extend(Level(f"s-{e.id_shop}", e.name, (e.id_shop,), id_shop=e.id_shop,
                            id_shop_group=id_group) for e in entries)
    return tuple(levels), True


def _full_groups(conn: sa.Connection, t: Tables,
                 groups: dict[int, list[shop_tree.ShopEntry]]) -> set[int]:
    """The groups of which every active shop is served."""
    served = {id_group: {e.id_shop for e in entries} for id_group, entries in groups.items()}
    members: dict[int, set[int]] = {}
    for entry in shop_tree.served_shops(conn, t, 0, shop_tree.SUPER_ADMIN_PROFILE):
        members.setdefault(entry.id_shop_group, set()).add(entry.id_shop)
    return {g for g, shops in served.items() if members.get(g, set()) <= shops}


def resolve(conn: sa.Connection, t: Tables, employee: Employee, wanted: str | None,
            all_label: str) -> ShopContext:
    """The shop context of ``employee`` with ``wanted`` chosen when they may pick it, else
    the widest level they may pick."""
    levels, multistore = levels_for(conn, t, employee, all_label)
    chosen = next((level for level in levels if level.key == (wanted or "")), None)
    return ShopContext(levels, chosen or (levels[0] if levels else None), multistore)
