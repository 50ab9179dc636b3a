"""A fresh shop for a load run: PrestaShop's schema on MariaDB, the module installed,
one signed-in employee per operator socket, and the plan the load generator follows.

The merchant's cap on simultaneous conversations (at most 100 in the back office) is
written straight into ``configuration`` as N + 10, and the per-socket rate limit is lifted
through ``PSONLINECHAT_RATE_LIMIT``: one operator socket answers N messages a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Iterator

import shopdb  # tests/shopdb.py, put on sys.path by load.py

from psonlinechat import installer, testing
from psonlinechat.repositories import configuration

HOST = "127.0.0.1"


@dataclasses.dataclass
class PreparedShop:
    """A shop ready for ``psonlinechat serve`` on ``port``."""

    database: shopdb.ShopDatabase
    port: int
    conversations: int
    environment: dict[str, str]
    operator_cookies: list[str]

    def plan(self, duration: float, rate: float) -> dict[str, Any]:
        """What bench/loadgen.py runs against this shop's server."""
        base = f"ws://{HOST}:{self.port}/psonlinechat/ws"
        origin = f"http://{HOST}:{self.port}"
        return {"mode": "chat", "duration": duration, "rate": rate,
                "operators": [{"url": f"{base}/operator", "origin": origin,
                               "headers": {"Cookie": cookie}}
                              for cookie in self.operator_cookies],
                "visitors": [{"url": f"{base}/visitor", "origin": origin}
                             for _ in range(self.conversations)]}


@contextlib.contextmanager
def prepared_shop(conversations: int, operators: int, port: int) -> Iterator[PreparedShop]:
    """Create the shop, yield it, drop its database whatever happens."""
    database = shopdb.create("ps_")
    try:
        installer.install(database.engine, database.tables)
        keys = testing.make_cookie_keys()
        cookies = []
        with database.engine.begin() as conn:
            configuration.update_value(conn, database.tables, "PSONLINECHAT_MAX_CHATS",
                                       str(conversations + 10))
            for number in range(operators):
                id_employee = testing.add_employee(conn, database.tables,
                                                   email=f"operator{number}@example.test")
                name, value = testing.sign_in_employee(conn, database.tables, keys, HOST,
                                                       id_employee)
                cookies.append(f"{name}={value}")
        environment = {"PSONLINECHAT_DATABASE_URL": database.url,
                       "PSONLINECHAT_TABLE_PREFIX": database.prefix,
                       "PSONLINECHAT_RATE_LIMIT": str(10 * (conversations + 10)),
                       "PSONLINECHAT_POOL_SIZE": "20",
                       **testing.keys_config(keys)}
        yield PreparedShop(database, port, conversations, environment, cookies)
    finally:
        database.drop()
