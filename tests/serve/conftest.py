"""Fixtures of the serve tests: the shop a ``psonlinechat serve`` subprocess bridges."""

from __future__ import annotations

import pytest

from psonlinechat.shop import installer
from tests.support.served import ServedShop


@pytest.fixture(scope="module")
def installed(ps_db):
    """The ps_ shop with the module installed."""
    installer.install(ps_db.engine, ps_db.tables)
    return ps_db


@pytest.fixture(scope="module")
def served_shop(installed) -> ServedShop:
    """The installed shop, new cookie secrets and a signed-in employee's cookie."""
    return ServedShop.create(installed)
