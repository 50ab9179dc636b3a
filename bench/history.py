"""The conversation history on a big shop: how long a page of the back office's history
table takes with 100,000 archived conversations and 1,000,000 messages.

    .venv/bin/python bench/history.py [--conversations 100000] [--messages 10] [--runs 30]

A fresh MariaDB database (PrestaShop 9.1's schema, tests/support/shopdb.py) with the
module installed (schema version 3, with the history's indexes); 20,000 customers; 40 %
of the conversations are signed-in customers' (about two each), the rest guests'; each
conversation has ``--messages`` events alternating customer and operator, with bodies drawn
from a vocabulary of 2,000 words. The database is dropped at the end, whatever happens.

Timed, as the median and 95th percentile of ``--runs`` runs each:

- **HTTP**: the full request through the Flask app (employee cookie checked, shop context,
  SQL, template): the first page, page 4, the oldest first (the end of the history), the
  middle page (only a typed URL reaches it: the page links are Previous and Next), searches by name,
  email, id and text, the total the page's script fetches after it, and the View dialog of
  a customer's line;
- **SQL only**: the same page and search queries without the app;
- **reference, same run**: the floor, a bare ``SELECT`` of 20 archived rows by date with
  no grouping (what any history must at least read), and the same history queries
  **without the upgrade's two indexes on the conversations** (dropped for that last part).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psonlinechat import testing  # noqa: E402
from psonlinechat.shop import installer  # noqa: E402
from psonlinechat.store import history  # noqa: E402
from psonlinechat.store.tables.conversations import HISTORY_INDEX_SUFFIXES  # noqa: E402
from tests.support import shopdb  # noqa: E402
from tests.support.apps import chat_app  # noqa: E402

CUSTOMERS = 20_000
CHUNK = 5_000
START = dt.datetime(2025, 1, 1)


def words(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(2000)]


def insert_chunks(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(table), rows[start:start + CHUNK])


def seed_customers(conn: sa.Connection, t, rng: random.Random) -> list[int]:
    first = ["Ann", "Bob", "Chloé", "David", "Emma", "Farid", "Giulia", "Hugo", "Ines", "Jan"]
    rows = [{"id_shop_group": 1, "id_shop": 1, "firstname": rng.choice(first),
             "lastname": f"Name{n}", "email": f"customer{n}@example.test", "passwd": "x",
             "secure_key": "-1", "active": True, "is_guest": False, "deleted": False,
             "date_add": START, "date_upd": START}
            for n in range(CUSTOMERS)]
    insert_chunks(conn, t.customer, rows)
    return list(conn.execute(sa.select(t.customer.c.id_customer)).scalars())


def seed_history(db: shopdb.ShopDatabase, conversations: int, per: int, seed: int) -> None:
    """Archived conversations and their events, inserted in bulk."""
    rng, t = random.Random(seed), db.tables
    vocabulary = words(rng)
    with db.engine.begin() as conn:
        customers = seed_customers(conn, t, rng)
        id_shop, id_lang = db.ids["shop"], db.ids["en"]
        base = conn.execute(sa.select(sa.func.coalesce(sa.func.max(
            t.conversation.c.id_conversation), 0))).scalar_one()
        convs, msgs = [], []
        for n in range(conversations):
            id_conversation = base + n + 1
            when = START + dt.timedelta(seconds=n * 300 + rng.randint(0, 200))
            signed = rng.random() < 0.4
            bodies = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 12)))
                      for _ in range(per)]
            last = when + dt.timedelta(seconds=20 * per)
            convs.append({"id_conversation": id_conversation, "id_shop": id_shop,
                          "id_lang": id_lang, "id_customer": rng.choice(customers) if signed
                          else None, "id_guest": None if signed else 500_000 + n,
                          "status": "archived", "ended_by": "operator", "token_hash": f"{n:064x}",
                          "last_seq": per, "customer_seen_seq": per, "operator_seen_seq": per,
                          "last_customer_message": bodies[-2 if per > 1 else 0],
                          "last_customer_message_at": last, "last_message_at": last,
                          "date_add": when, "date_upd": last, "date_end": last,
                          "date_archived": last})
            msgs.extend({"id_conversation": id_conversation, "seq": k + 1, "kind": "message",
                         "author": "customer" if k % 2 == 0 else "operator",
                         "id_employee": None if k % 2 == 0 else 1, "body": body,
                         "date_add": when + dt.timedelta(seconds=20 * k)}
                        for k, body in enumerate(bodies))
            if len(convs) >= CHUNK:
                insert_chunks(conn, t.conversation, convs)
                insert_chunks(conn, t.message, msgs)
                convs, msgs = [], []
        insert_chunks(conn, t.conversation, convs)
        insert_chunks(conn, t.message, msgs)
        conn.execute(sa.text(f"ANALYZE TABLE {t.conversation.name}, {t.message.name}"))


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 95th percentile of ``fn``'s duration in milliseconds (after one warm-up)."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def sql_cases(db, engine: sa.Engine, shop: int, pages: int, customer: dict,
              word: str) -> dict[str, Callable]:
    t = db.tables

    def count_all() -> object:
        with engine.connect() as conn:
            return history.count(conn, t, history.Query((shop,)))

    def run(**query) -> Callable[[], object]:
        def go() -> object:
            with engine.connect() as conn:
                return history.listing(conn, t, history.Query((shop,), **query))
        return go

    return {"page 1": run(), "page 4": run(page=4), "oldest first": run(newest_first=False),
            f"page {pages // 2} (typed URL)": run(page=pages // 2),
            "search name": run(search=customer["name"]),
            "search email": run(search=customer["email"]),
            "search id": run(search=str(customer["id"])), "search text": run(search=word),
            "count (after the page)": count_all}


def floor_case(db, engine: sa.Engine, shop: int) -> Callable[[], object]:
    c = db.tables.conversation

    def go() -> object:
        with engine.connect() as conn:
            return conn.execute(sa.select(c).where(c.c.id_shop == shop, c.c.status == "archived")
                                .order_by(c.c.last_message_at.desc()).limit(20)).all()
    return go


def http_cases(app, cookie: str, cases: dict[str, dict], view: str) -> dict[str, Callable]:
    client = app.test_client(use_cookies=False)

    def get(path: str, params: dict) -> Callable[[], object]:
        def go() -> object:
            response = client.get(path, query_string=params, base_url="http://127.0.0.1",
                                  headers={"Cookie": cookie})
            assert response.status_code == 200, response.status_code
            return response.data
        return go

    out = {name: get("/psonlinechat/admin/history", params) for name, params in cases.items()}
    out["count (after the page)"] = get("/psonlinechat/admin/history/count", {})
    out["view a customer's line"] = get("/psonlinechat/admin/history/view", {"line": view})
    return out


def drop_indexes(db) -> None:
    with db.engine.begin() as conn:
        for table in (db.tables.conversation,):
            for index in table.indexes:
                if index.name.endswith(HISTORY_INDEX_SUFFIXES):
                    index.drop(conn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # drop the database on a kill too
    db = shopdb.create("ps_")
    try:
        run(db, args)
    finally:
        db.drop()


def pick(db, shop: int) -> tuple[dict, str, str]:
    t = db.tables
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(t.customer.c.id_customer, t.customer.c.lastname,
                                     t.customer.c.email).join(
            t.conversation, t.conversation.c.id_customer == t.customer.c.id_customer)
            .limit(1)).one()
        body = conn.execute(sa.select(t.message.c.body).where(
            t.message.c.id_message == 4242)).scalar_one()
    return ({"id": row.id_customer, "name": row.lastname, "email": row.email},
            body.split()[0], f"u{row.id_customer}")


def run(db, args) -> None:
    began = time.perf_counter()
    installer.install(db.engine, db.tables)
    seed_history(db, args.conversations, args.messages, seed=7)
    print(f"seeded {args.conversations:,} conversations, "
          f"{args.conversations * args.messages:,} messages in "
          f"{time.perf_counter() - began:.0f} s", flush=True)
    keys = testing.make_cookie_keys()
    _, cookie = db.signed_in_employee(keys, email="bench@example.test")
    app = chat_app(db, keys)
    shop = db.ids["shop"]
    customer, word, view = pick(db, shop)
    with db.engine.connect() as conn:
        lines = history.count(conn, db.tables, history.Query((shop,)))
    pages = max(1, -(-lines // 20))
    print(f"{lines:,} lines, {pages:,} pages; searching {customer['name']!r}, "
          f"{customer['email']!r}, {customer['id']}, {word!r}\n")
    params = {"page 1": {}, "page 4": {"page": 4}, "oldest first": {"sort": "asc"},
              f"page {pages // 2} (typed URL)": {"page": pages // 2},
              "search name": {"q": customer["name"]},
              "search email": {"q": customer["email"]}, "search id": {"q": str(customer["id"])},
              "search text": {"q": word}}
    cookie_header = f"{cookie[0]}={cookie[1]}"
    results = {name: timed(fn, args.runs) for name, fn in
               http_cases(app, cookie_header, params, view).items()}
    pooled = sa.create_engine(db.url, pool_size=2)  # as the app's: no connect per query
    sql = {name: timed(fn, args.runs) for name, fn in
           sql_cases(db, pooled, shop, pages, customer, word).items()}
    floor = timed(floor_case(db, pooled, shop), args.runs)
    drop_indexes(db)
    bare = {name: timed(fn, max(3, args.runs // 10)) for name, fn in
            sql_cases(db, pooled, shop, pages, customer, word).items()}
    report(results, sql, floor, bare)
    pooled.dispose()
    get_state_dispose(app)


def report(results: dict, sql: dict, floor: tuple, bare: dict) -> None:
    print(f"{'case':28} {'HTTP p50':>9} {'HTTP p95':>9} {'SQL p50':>8} {'no-index SQL':>13}"
          f" {'SQL/floor':>10} {'no-index/ours':>14}")
    for name, (p50, p95) in results.items():
        s = sql.get(name)
        b = bare.get(name)
        print(f"{name:28} {p50:9.1f} {p95:9.1f} "
              f"{(f'{s[0]:.1f}' if s else '-'):>8} {(f'{b[0]:.1f}' if b else '-'):>13} "
              f"{(f'{s[0] / floor[0]:.1f}' if s else '-'):>10} "
              f"{(f'{b[0] / s[0]:.1f}' if b and s else '-'):>14}")
    print(f"{'floor: 20 rows by date':28} {'':>9} {'':>9} {floor[0]:8.2f}")
    print("\n(milliseconds; HTTP is the whole request through the app; the budget is 50 ms)")


def get_state_dispose(app) -> None:
    from psonlinechat import get_state

    get_state(app).engine.dispose()


if __name__ == "__main__":
    main()
