"""The merchant's settings, read and saved: :class:`SettingsStore`, Flask-free.

The store keeps the settings of each shop in a process cache checked with one cheap query
per read against the revision token in the module's meta table, which every save replaces
in the same transaction (see :mod:`psonlinechat.store.module`): after a Save in one worker
commits, no process serves the old settings. The revision is read before the settings, in
the same transaction, so a cache entry never pairs a revision with older settings. The
fields and their rules are in :mod:`psonlinechat.shop.settings`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from psonlinechat.errors import ShopError
from psonlinechat.shop.settings import (
    EDITABLE_FIELDS,
    ModuleSettings,
    all_keys,
    from_configuration,
    to_configuration,
    validate,
)
from psonlinechat.store import configuration, module
from psonlinechat.store.tables import Tables


class SettingsStore:
    """Reads and saves :class:`ModuleSettings`, with a process cache kept honest by the revision.

    Flask-free; one store per app. Changes made to the rows by other means (SQL by hand)
    show only after the next save or install replaces the revision, or after :meth:`clear`.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, int], tuple[str | None, ModuleSettings]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(conn: sa.Connection, t: Tables, id_shop: int) -> tuple[str, str, int]:
        return (conn.engine.url.render_as_string(), t.prefix, int(id_shop))

    def get(self, conn: sa.Connection, t: Tables, id_shop: int) -> ModuleSettings:
        """The settings of ``id_shop``: one query when the cache is current, two otherwise.

        :raises ShopError: the module's tables are missing (it is not installed).
        """
        revision = _revision(conn, t, module.settings_revision)
        key = self._key(conn, t, id_shop)
        cached = self._cache.get(key)
        if cached and cached[0] == revision:
            return cached[1]
        settings = _load(conn, t, id_shop)
        with self._lock:
            self._cache[key] = (revision, settings)
        return settings

    def save(self, conn: sa.Connection, t: Tables, id_shop: int,
             changes: ModuleSettings | Mapping[str, Any], *,
             id_shop_group: int | None = None) -> ModuleSettings:
        """Validate and write ``changes`` (every field of a :class:`ModuleSettings`, or only
        the fields of a mapping; texts only for the languages given) and a new revision,
        all in one transaction: the one ``conn`` is in (even one an earlier statement began
        implicitly; the caller commits it), else one opened and committed here.

        With multistore on, the values are written for ``id_shop`` (0: the global level;
        0 with ``id_shop_group``: that group's level); otherwise globally.
        Concurrent saves run one after the other, each checked against the settings the
        one before it committed (when this save opens the transaction).

        :raises SettingsError: a value is invalid (nothing is written).
        :raises ShopError: the module is not installed.
        """
        if isinstance(changes, ModuleSettings):
            changes = {field: getattr(changes, field) for field in EDITABLE_FIELDS}
        if conn.in_transaction():
            return self._save(conn, t, id_shop, changes, id_shop_group)
        with conn.begin():
            return self._save(conn, t, id_shop, changes, id_shop_group)

    def _save(self, conn: sa.Connection, t: Tables, id_shop: int,
              changes: Mapping[str, Any], id_shop_group: int | None) -> ModuleSettings:
        # The revision first: its row lock queues concurrent saves before they read.
        revision = _revision(conn, t, module.new_settings_revision)
        clean = validate(changes, current=_load(conn, t, id_shop, id_shop_group))
        scope = configuration.write_scope(conn, t, id_shop, id_shop_group)
        now = configuration.shop_now(conn, t)
        for name, value in to_configuration(clean).items():
            configuration.update_value(conn, t, name, value, html=isinstance(value, Mapping),
                                       now=now, scope=scope)
        saved = _load(conn, t, id_shop, id_shop_group)
        if not id_shop_group:  # the cache holds shops (and the global level), not groups
            with self._lock:  # a new token: a rollback leaves a dead entry, never a wrong one
                self._cache[self._key(conn, t, id_shop)] = (revision, saved)
        return saved

    def clear(self) -> None:
        """Forget every cached settings (the next read of each shop queries again)."""
        with self._lock:
            self._cache.clear()


def _load(conn: sa.Connection, t: Tables, id_shop: int,
          id_shop_group: int | None = None) -> ModuleSettings:
    return from_configuration(configuration.get_many(
        conn, t, [*all_keys(), "PS_LANG_DEFAULT"], id_shop, id_shop_group))


def _revision(conn: sa.Connection, t: Tables,
              access: Callable[[sa.Connection, Tables], str | None]) -> str | None:
    """``access(conn, t)`` on the revision row, a missing meta table told as not installed."""
    try:
        return access(conn, t)
    except sa.exc.DBAPIError as exc:
        if module.is_installed(conn, t):
            raise
        raise ShopError(f"the module is not installed in this shop (no table "
                        f"{t.meta.name}): run `psonlinechat install`") from exc
