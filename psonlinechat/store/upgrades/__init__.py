"""Ordered upgrades of the module's own schema, one module per version.

An upgrade is a module ``vNNNN_<what>.py`` here with ``VERSION = NNNN`` (the schema
version it brings) and ``upgrade(conn, tables)``. :func:`run` applies the ones after the
recorded version in order, each in its own transaction followed by its version number.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import sqlalchemy as sa

from psonlinechat.errors import ShopError
from psonlinechat.store import module
from psonlinechat.store.tables import Tables

_UPGRADE_NAME = re.compile(r"^v(\d{4})_\w+$")


class Upgrade(Protocol):
    """One upgrade module: ``VERSION`` (the schema version it brings) and ``upgrade()``."""

    VERSION: int

    def upgrade(self, conn: sa.Connection, tables: Tables) -> None:
        """Change the schema from ``VERSION - 1`` to ``VERSION``."""


def discover() -> list[Upgrade]:
    """The upgrade modules ``vNNNN_*.py`` of this package, sorted by version.

    :raises RuntimeError: a module's ``VERSION`` disagrees with its name, or two share one.
    """
    found: list[Upgrade] = []
    for info in pkgutil.iter_modules(__path__):
        match = _UPGRADE_NAME.match(info.name)
        if not match:
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if getattr(mod, "VERSION", None) != int(match.group(1)) or not callable(
                getattr(mod, "upgrade", None)):
            raise RuntimeError(f"upgrade module {info.name} needs VERSION = "
                               f"{int(match.group(1))} and an upgrade(conn, tables) function")
        found.append(mod)
    return ordered(found)


def ordered(upgrades: Iterable[Upgrade]) -> list[Upgrade]:
    """``upgrades`` sorted by version.

    :raises RuntimeError: two share a version.
    """
    steps = sorted(upgrades, key=lambda u: u.VERSION)
    versions = [u.VERSION for u in steps]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two upgrades share a version: {versions}")
    return steps


def run(conn: sa.Connection, t: Tables, recorded: int, target: int,
        steps: Sequence[Upgrade] | None = None,
        on_step: Callable[[int], None] | None = None) -> list[int]:
    """Run the steps after ``recorded`` up to ``target``; return the versions reached.

    :param steps: the upgrades to choose from (default: :func:`discover`).
    :param on_step: called with each version once it is recorded.
    :raises ShopError: the schema is newer than ``target``, a step is missing or failed.
    :raises RuntimeError: two steps share a version.
    """
    steps = ordered(discover() if steps is None else steps)
    if recorded > target:
        raise ShopError(f"the module's tables are at version {recorded}, newer than this "
                        f"psonlinechat ({target}): install a newer psonlinechat")
    pending = [step for step in steps if recorded < step.VERSION <= target]
    expected = list(range(recorded + 1, target + 1))
    if [step.VERSION for step in pending] != expected:
        raise ShopError(f"cannot upgrade the module's tables from version {recorded} to "
                        f"{target}: upgrades {expected} are needed, "
                        f"found {[step.VERSION for step in pending]}")
    conn.commit()
    done: list[int] = []
    for step in pending:
        try:  # one transaction per step (MySQL commits DDL at once; the version row follows)
            step.upgrade(conn, t)
            module.set_schema_version(conn, t, step.VERSION)
            conn.commit()
        except Exception as exc:
            raise ShopError(f"the upgrade to version {step.VERSION} failed ({exc}); the "
                            f"module's tables stay at version {done[-1] if done else recorded}: "
                            f"fix the cause and run `psonlinechat upgrade` again") from exc
        done.append(step.VERSION)
        if on_step:
            on_step(step.VERSION)
    return done
