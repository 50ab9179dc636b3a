"""The module's own ``{prefix}psonlinechat_meta`` table: schema version and settings revision.

``schema_version`` is the version of the module's own tables (see
:mod:`psonlinechat.store.upgrades`); ``settings_revision`` is a random token that every
save of the merchant's settings (and every install that writes settings) replaces, in the
same transaction, so every process can tell with one cheap query whether its cached
settings are still current. A token is never reused: neither a rolled-back save nor an
uninstall followed by an install can bring back a revision some process has cached with
other settings.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from psonlinechat.store.tables import Tables

SCHEMA_VERSION = "schema_version"
SETTINGS_REVISION = "settings_revision"
#: Dialects with named locks (``GET_LOCK``); others (the demo's SQLite) serve one process.
_NAMED_LOCKS = ("mysql", "mariadb")


def get(conn: sa.Connection, t: Tables, name: str) -> str | None:
    """The meta value ``name``, or ``None`` when it was never set.

    :raises sqlalchemy.exc.DBAPIError: the meta table does not exist (module not installed).
    """
    return conn.execute(sa.select(t.meta.c.value).where(t.meta.c.name == name)).scalar()


def put(conn: sa.Connection, t: Tables, name: str, value: str) -> None:
    """Set the meta value ``name`` (insert or update).

    :raises sqlalchemy.exc.DBAPIError: the meta table does not exist (module not installed).
    """
    done = conn.execute(sa.update(t.meta).where(t.meta.c.name == name)
                        .values(value=value)).rowcount
    if not done:
        conn.execute(sa.insert(t.meta).values(name=name, value=value))


def is_installed(conn: sa.Connection, t: Tables) -> bool:
    """Whether the meta table exists (the module's tables were created)."""
    return sa.inspect(conn).has_table(t.meta.name)


def schema_version(conn: sa.Connection, t: Tables) -> int | None:
    """The recorded version of the module's own schema; ``None`` when not installed."""
    if not is_installed(conn, t):
        return None
    value = get(conn, t, SCHEMA_VERSION)
    return None if value is None else int(value)


def set_schema_version(conn: sa.Connection, t: Tables, version: int) -> None:
    """Record the version of the module's own schema."""
    put(conn, t, SCHEMA_VERSION, str(int(version)))


def settings_revision(conn: sa.Connection, t: Tables) -> str | None:
    """The settings revision (``None`` before any): the one query of a cache check.

    :raises sqlalchemy.exc.DBAPIError: the meta table does not exist (module not installed).
    """
    return get(conn, t, SETTINGS_REVISION)


def new_settings_revision(conn: sa.Connection, t: Tables) -> str:
    """Replace the settings revision with a new random token and return it.

    The UPDATE locks the row until the caller's transaction ends, so concurrent saves run
    one after the other.

    :raises sqlalchemy.exc.DBAPIError: the meta table does not exist (module not installed).
    """
    token = secrets.token_hex(16)
    put(conn, t, SETTINGS_REVISION, token)
    return token


def _install_lock_name(t: Tables) -> sa.ColumnElement:
    # Server-wide name, so per database and prefix; 53 characters (MySQL allows 64).
    return sa.func.concat("psonlinechat.", sa.func.sha1(
        sa.func.concat(sa.func.database(), "/", t.prefix)))


def acquire_install_lock(conn: sa.Connection, t: Tables, timeout: int) -> bool:
    """Take the shop's install lock, waiting up to ``timeout`` seconds.

    A MySQL named lock per database and prefix, held by this connection's session across
    commits until :func:`release_install_lock` or the connection closes. Always taken at
    once where the database has no named locks (SQLite).

    :returns: whether the lock was taken (``False``: another connection kept it).
    :raises sqlalchemy.exc.DBAPIError: the database failed.
    """
    if conn.dialect.name not in _NAMED_LOCKS:
        return True
    got = conn.execute(sa.select(sa.func.get_lock(_install_lock_name(t), max(0, int(timeout)))))
    taken = got.scalar() == 1
    conn.commit()
    return taken


def release_install_lock(conn: sa.Connection, t: Tables) -> None:
    """Release the lock :func:`acquire_install_lock` took on this connection.

    :raises sqlalchemy.exc.DBAPIError: the database failed.
    """
    if conn.dialect.name in _NAMED_LOCKS:
        conn.execute(sa.select(sa.func.release_lock(_install_lock_name(t))))
        conn.commit()


def languages(conn: sa.Connection, t: Tables) -> list[tuple[int, str]]:
    """``(id_lang, iso_code)`` of every active language offered by any shop, by id."""
    query = (sa.select(t.lang.c.id_lang, t.lang.c.iso_code).distinct()
             .join(t.lang_shop, t.lang_shop.c.id_lang == t.lang.c.id_lang)
             .where(t.lang.c.active.is_(True)).order_by(t.lang.c.id_lang))
    return [(int(row.id_lang), str(row.iso_code).lower()) for row in conn.execute(query)]
