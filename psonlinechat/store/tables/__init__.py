"""Table definitions: the PrestaShop tables the module touches, and the module's own.

One module per family declares its tables: PrestaShop's :mod:`.shops`, :mod:`.languages`,
:mod:`.configuration`, :mod:`.customers` and :mod:`.employees`; the module's own
:mod:`.module`, :mod:`.conversations`, :mod:`.operators` and :mod:`.offline`.
:func:`build` gathers them into one :class:`Tables` per table prefix.

PrestaShop's tables are declared with the columns that 1.7.8, 8.x and 9.x share (FACTS
§1.2–1.3); the one difference that matters, the ``date_add``/``date_upd`` columns that 8.0
added to the session tables, is a flag found by :func:`detect_features`. PrestaShop's
tables are never created or altered on a real shop: only the embedded demo creates them
(on SQLite) from these definitions.

The module's own tables are ``{prefix}psonlinechat_*``, InnoDB and utf8mb4.
"""

from __future__ import annotations

import dataclasses
import functools

import sqlalchemy as sa

from psonlinechat.config import validate_table_prefix
from psonlinechat.store.tables import (
    configuration,
    conversations,
    customers,
    employees,
    languages,
    module,
    offline,
    operators,
    shops,
)

#: The version of the module's own schema that this code writes; see ``upgrades``.
SCHEMA_VERSION = 3


@dataclasses.dataclass(frozen=True)
class Features:
    """What differs between the PrestaShop schemas the module supports."""

    #: 8.0+ session tables carry ``date_add`` and ``date_upd``.
    session_dates: bool = True
    #: 1.7.7+ shops have ``customer_session``/``employee_session`` at all.
    sessions: bool = True


@dataclasses.dataclass(frozen=True)
class Tables:
    """Every table the module reads or writes, for one table prefix."""

    prefix: str
    features: Features
    shop_metadata: sa.MetaData
    own_metadata: sa.MetaData
    # PrestaShop's tables.
    shop_group: sa.Table
    shop: sa.Table
    shop_url: sa.Table
    lang: sa.Table
    lang_shop: sa.Table
    configuration: sa.Table
    configuration_lang: sa.Table
    customer: sa.Table
    customer_session: sa.Table
    guest: sa.Table
    operating_system: sa.Table
    web_browser: sa.Table
    address: sa.Table
    employee: sa.Table
    employee_session: sa.Table
    employee_shop: sa.Table
    # The module's own tables.
    meta: sa.Table
    conversation: sa.Table
    message: sa.Table
    operator: sa.Table
    shop_lock: sa.Table
    offline_message: sa.Table
    mail: sa.Table

    @property
    def own_tables(self) -> list[sa.Table]:
        """The module's own tables, in creation order."""
        return list(self.own_metadata.sorted_tables)


@functools.lru_cache(maxsize=32)
def build(prefix: str = "ps_", features: Features = Features()) -> Tables:
    """Declare every table for ``prefix``; the result is cached and shared.

    :raises ConfigError: the prefix is not a valid table prefix.
    """
    validate_table_prefix(prefix)
    shop_md, own_md = sa.MetaData(), sa.MetaData()
    dates = features.session_dates
    own = prefix + "psonlinechat_"
    return Tables(
        prefix=prefix, features=features, shop_metadata=shop_md, own_metadata=own_md,
        **shops.declare(shop_md, prefix),
        **languages.declare(shop_md, prefix),
        **configuration.declare(shop_md, prefix),
        **customers.declare(shop_md, prefix, session_dates=dates),
        **employees.declare(shop_md, prefix, session_dates=dates),
        **module.declare(own_md, own),
        **conversations.declare(own_md, own),
        **operators.declare(own_md, own),
        **offline.declare(own_md, own),
    )
