"""What PrestaShop records of the psonlinechat PHP module: its ``module`` row and the hooks
its ``hook_module`` rows attach it to. Read only: PrestaShop writes them when the merchant
installs the module in the Module Manager.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from psonlinechat.store.tables import Tables


@dataclasses.dataclass(frozen=True)
class Registration:
    """The module as PrestaShop knows it: enabled or not, and its hooks' names."""

    active: bool
    hooks: frozenset[str]


def registration(conn: sa.Connection, t: Tables, name: str) -> Registration | None:
    """The module ``name``'s registration, or ``None`` when PrestaShop never installed it.

    :raises sqlalchemy.exc.DBAPIError: the database failed or lacks PrestaShop's tables.
    """
    module = sa.table(f"{t.prefix}module", sa.column("id_module"), sa.column("name"),
                      sa.column("active"))
    hook = sa.table(f"{t.prefix}hook", sa.column("id_hook"), sa.column("name"))
    hook_module = sa.table(f"{t.prefix}hook_module", sa.column("id_module"),
                           sa.column("id_hook"))
    row = conn.execute(sa.select(module.c.id_module, module.c.active)
                       .where(module.c.name == name)).first()
    if row is None:
        return None
    hooks = conn.execute(
        sa.select(hook.c.name)
        .join_from(hook_module, hook, hook_module.c.id_hook == hook.c.id_hook)
        .where(hook_module.c.id_module == row.id_module)).scalars()
    return Registration(active=bool(row.active), hooks=frozenset(str(h) for h in hooks))
