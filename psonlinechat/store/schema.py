"""What the shop's database holds: which PrestaShop tables and which schema variant."""

from __future__ import annotations

import sqlalchemy as sa

from psonlinechat.errors import ShopError
from psonlinechat.store.tables import Features

#: PrestaShop tables without which the module cannot run.
REQUIRED_SHOP_TABLES = (
    "configuration", "configuration_lang", "customer", "employee", "guest", "lang",
    "lang_shop", "shop", "shop_group", "shop_url",
)


def require_shop_tables(conn: sa.Connection, prefix: str) -> None:
    """Check that the database holds PrestaShop's tables with ``prefix``.

    :raises ShopError: some of :data:`REQUIRED_SHOP_TABLES` are missing (named in the
        message).
    """
    present = set(sa.inspect(conn).get_table_names())
    missing = [prefix + name for name in REQUIRED_SHOP_TABLES if prefix + name not in present]
    if missing:
        raise ShopError(f"the database has no PrestaShop tables with prefix {prefix!r} "
                        f"(missing: {', '.join(missing)})")


def detect_features(conn: sa.Connection, prefix: str) -> Features:
    """Tell the schema variant (1.7.8, 8.x or 9.x) from the session tables' columns."""
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names())
    if prefix + "customer_session" not in present:
        return Features(sessions=False, session_dates=False)
    columns = {col["name"] for col in inspector.get_columns(prefix + "customer_session")}
    return Features(sessions=True, session_dates="date_upd" in columns)
