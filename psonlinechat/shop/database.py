"""The shop's database as the module sees it: :class:`ShopDatabase`, Flask-free.

One per app: the deployment settings, the pooled engine, the table definitions fitted to the
shop's schema on first use, the directory of shops (:mod:`psonlinechat.shop.directory`) and
the store of the merchant's settings (:mod:`psonlinechat.shop.settings`). Identity, the
chat core and the console commands receive it; none of them needs Flask.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from psonlinechat.config import Settings
from psonlinechat.errors import ShopError
from psonlinechat.shop.directory import ShopDirectory
from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.shop.settings_store import SettingsStore
from psonlinechat.store import schema, tables as tables_module


def unreachable(exc: sa.exc.OperationalError) -> ShopError:
    """The :class:`ShopError` saying the shop's database cannot be reached, for ``exc``."""
    return ShopError(f"cannot reach the shop's database: {exc.orig}")


@dataclasses.dataclass(eq=False)
class ShopDatabase:
    """The shop's database and what the module keeps about it.

    :param settings: the validated deployment settings.
    :param engine: the pooled engine over the shop's database (nothing connects until used).
    :param directory: the snapshot of shops, URLs and languages.
    :param settings_store: the merchant's settings, cached per revision.
    :param clock: Unix time for the employee cookie's ``last_activity`` (tests move it).
    """

    settings: Settings
    engine: sa.Engine
    directory: ShopDirectory = dataclasses.field(default_factory=ShopDirectory)
    settings_store: SettingsStore = dataclasses.field(default_factory=SettingsStore)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._tables: tables_module.Tables | None = None
        self._lock = threading.Lock()

    @property
    def tables(self) -> tables_module.Tables:
        """The table definitions, fitted to the shop's schema on first use.

        :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
        """
        if self._tables is None:
            with self._lock:
                if self._tables is None:
                    self._tables = self._detect_tables()
        return self._tables

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection to the shop's database.

        :raises ShopError: the database is unreachable, or the connection fails while in use.
        """
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise unreachable(exc) from exc

    def module_settings(self, conn: sa.Connection, id_shop: int) -> ModuleSettings:
        """The merchant's settings for ``id_shop`` (cached; one query when current).

        :raises ShopError: the database lacks PrestaShop's or the module's tables.
        """
        return self.settings_store.get(conn, self.tables, id_shop)

    def _detect_tables(self) -> tables_module.Tables:
        prefix = self.settings.table_prefix
        with self.connect() as conn:
            missing = schema.missing_shop_tables(conn, prefix)
            features = schema.detect_features(conn, prefix)
        if missing:
            raise ShopError(
                f"the database has no PrestaShop tables with prefix {prefix!r} "
                f"(missing: {', '.join(missing)})"
            )
        return tables_module.build(prefix, features)
