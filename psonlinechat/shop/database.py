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
from typing import NoReturn

import sqlalchemy as sa

from psonlinechat.config import Settings
from psonlinechat.errors import PsOnlineChatError, ShopError
from psonlinechat.shop.directory import ShopDirectory
from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.shop.settings_store import SettingsStore
from psonlinechat.store import schema
from psonlinechat.store import tables as tables_module

#: MySQL/MariaDB error numbers saying the connection is gone or could not be made: can't
#: connect (2002, 2003), server gone (2006), lost during a query (2013, 2055), killed
#: (1927), shutting down (1053), closed for inactivity (4031).
LOST_CODES = frozenset({1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031})


def failure(exc: sa.exc.DBAPIError) -> ShopError | None:
    """The :class:`ShopError` that a failing database raises instead of ``exc``, or ``None``
    when ``exc`` is not the database failing (an integrity error, a bug in a statement):
    that one is raised as it is.

    The one place where the driver's errors become psonlinechat's: the caller raises the
    result ``from exc``.
    """
    if not (isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
            or exc.connection_invalidated):
        return None
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args else None
    code = code if isinstance(code, int) else None
    lost = exc.connection_invalidated or code in LOST_CODES
    if lost:
        return ShopError(f"cannot reach the shop's database: {orig}", code=code, lost=True)
    return ShopError(f"the shop's database failed: {orig}", code=code)


@contextlib.contextmanager
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection from ``engine``'s pool; the database failing, on connect or while the
    block uses the connection, is raised as :class:`ShopError` chained to what the driver
    or SQLAlchemy raised. A connection found lost is invalidated, so the pool never lends
    it again, and whatever the block raises once it is lost counts as the loss.

    :raises ShopError: see :func:`failure`.
    """
    try:
        conn = engine.connect()
    except sa.exc.DBAPIError as exc:
        _raise_translated(exc)
    try:
        with conn:
            yield from _guarded(conn)
    except sa.exc.DBAPIError as exc:  # giving back a connection that was lost meanwhile
        _raise_translated(exc)


def _guarded(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Yield ``conn``; what the block raises while using it, translated as
    :func:`connection` says."""
    try:
        yield conn
    except sa.exc.DBAPIError as exc:
        error = failure(exc)
        if error is None:
            raise
        if error.lost and not conn.invalidated:
            conn.invalidate(exc)
        raise error from exc
    except PsOnlineChatError:
        raise
    except Exception as exc:
        if not conn.invalidated:  # not the database: a bug, say
            raise
        # e.g. a statement after the loss: SQLAlchemy's "rollback first"
        raise ShopError(f"lost the connection to the shop's database: {exc}",
                        lost=True) from exc


def _raise_translated(exc: sa.exc.DBAPIError) -> NoReturn:
    """Raise ``exc`` as :class:`ShopError` when it is the database failing, else as is.

    :raises ShopError: the database failed (see :func:`failure`).
    :raises sqlalchemy.exc.DBAPIError: ``exc``, any other statement error.
    """
    error = failure(exc)
    if error is None:
        raise exc
    raise error from exc


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

        :raises ShopError: the database is unreachable, or fails while the connection is
            in use (see :func:`connection`).
        """
        with connection(self.engine) as conn:
            yield conn

    def module_settings(self, conn: sa.Connection, id_shop: int) -> ModuleSettings:
        """The merchant's settings for ``id_shop`` (cached; one query when current).

        :raises ShopError: the database lacks PrestaShop's or the module's tables.
        """
        return self.settings_store.get(conn, self.tables, id_shop)

    def language_iso(self, id_lang: int, id_shop: int | None = None) -> str:
        """The iso code (``"fr"``, lower case) of the language ``id_lang`` when the shop
        ``id_shop`` offers it and it is active, else of the shop's default language
        (PS_LANG_DEFAULT), else ``"en"``; ``None`` or an inactive shop means the default
        shop. Read from the directory's snapshot: no query while it is current (a merchant's
        change counts within :data:`~psonlinechat.shop.directory.SNAPSHOT_SECONDS`).

        :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
        """
        return self.directory.language_iso(self, id_lang, id_shop)

    def _detect_tables(self) -> tables_module.Tables:
        prefix = self.settings.table_prefix
        with self.connect() as conn:
            schema.require_shop_tables(conn, prefix)
            features = schema.detect_features(conn, prefix)
        return tables_module.build(prefix, features)
