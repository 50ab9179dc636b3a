"""A fresh multistore for a load run: PrestaShop's schema on MariaDB, one shop per
``per_shop`` conversations, the module installed, one signed-in employee per shop.

Each shop has its own host (``shop<k>.bench.test``, the first one ``127.0.0.1``); the
load generator names it in the URL and Host header but always connects to 127.0.0.1.
Each operator socket follows one shop, as a back-office tab does, so an operator answers
``per_shop`` conversations and sees only its shop's events.

The merchant's cap on simultaneous conversations is written straight into
``configuration`` as ``per_shop + 10``, and the per-socket rate limit is lifted through
``PSONLINECHAT_RATE_LIMIT``: an operator answers ``per_shop`` messages a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator
from typing import Any

from psonlinechat import testing
from psonlinechat.shop import installer
from psonlinechat.store import configuration, seed
from tests.support import shopdb  # the repository root is put on sys.path by load.py

HOST = "127.0.0.1"


def shop_host(number: int) -> str:
    """The host of the ``number``-th shop (1-based)."""
    return HOST if number == 1 else f"shop{number}.bench.test"


@dataclasses.dataclass
class PreparedShop:
    """Shops ready for ``psonlinechat serve`` on ``port``."""

    database: shopdb.ShopDatabase
    port: int
    conversations: int
    shop_ids: list[int]
    environment: dict[str, str]
    operator_cookies: list[str]

    def plan(self, duration: float, rate: float) -> dict[str, Any]:
        """What bench/loadgen.py runs against this server."""
        operators = [{"url": f"ws://{HOST}:{self.port}/psonlinechat/ws/operator",
                      "origin": f"http://{HOST}:{self.port}", "id_shop": id_shop,
                      "headers": {"Cookie": cookie}}
                     for id_shop, cookie in zip(self.shop_ids, self.operator_cookies, strict=True)]
        visitors = []
        for index in range(self.conversations):
            number = index % len(self.shop_ids) + 1
            host = f"{shop_host(number)}:{self.port}"
            visitors.append({"url": f"ws://{host}/psonlinechat/ws/visitor",
                             "origin": f"http://{host}", "connect_to": HOST,
                             "operator": number - 1})
        return {"mode": "chat", "duration": duration, "rate": rate,
                "operators": operators, "visitors": visitors}


@contextlib.contextmanager
def prepared_shop(conversations: int, per_shop: int, port: int) -> Iterator[PreparedShop]:
    """Create the shops, yield them, drop the database whatever happens."""
    database = shopdb.create("ps_")
    try:
        t = database.tables
        keys = testing.make_cookie_keys()
        shop_ids = [database.ids["shop"]]
        with database.engine.begin() as conn:
            for number in range(2, math.ceil(conversations / per_shop) + 1):
                id_shop = seed.add_shop(conn, t, database.ids["shop_group"], f"Shop {number}",
                                        domain=shop_host(number))
                for lang in ("en", "fr"):
                    conn.execute(t.lang_shop.insert().values(id_lang=database.ids[lang],
                                                             id_shop=id_shop))
                shop_ids.append(id_shop)
            if len(shop_ids) > 1:
                configuration.update_value(conn, t, "PS_MULTISHOP_FEATURE_ACTIVE", "1")
        installer.install(database.engine, t)
        cookies = []
        with database.engine.begin() as conn:
            configuration.update_value(conn, t, "PSONLINECHAT_MAX_CHATS", str(per_shop + 10))
            for number in range(len(shop_ids)):
                id_employee = testing.add_employee(conn, t, email=f"operator{number}@example.test")
                name, value = testing.sign_in_employee(conn, t, keys, HOST, id_employee)
                cookies.append(f"{name}={value}")
        environment = {"PSONLINECHAT_DATABASE_URL": database.url,
                       "PSONLINECHAT_TABLE_PREFIX": database.prefix,
                       "PSONLINECHAT_RATE_LIMIT": str(20 * (per_shop + 10)),
                       "PSONLINECHAT_POOL_SIZE": os.environ.get("BENCH_POOL_SIZE", "20"),
                       **testing.keys_config(keys)}
        yield PreparedShop(database, port, conversations, shop_ids, environment, cookies)
    finally:
        database.drop()
