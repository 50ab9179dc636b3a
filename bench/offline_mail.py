"""What the offline form's post costs now that its mail leaves from the mail sender, beside
references measured in the same run.

```
.venv/bin/python bench/offline_mail.py                 # 300 posts per case
.venv/bin/python bench/offline_mail.py --posts 1000 --stalled-sync 3
```

Each case posts ``--posts`` offline messages, one after another, through the Flask test
client of an app on a fresh MariaDB shop (each post from its own address: the per-address
limit stays on), and prints posts per second and the p50 / p99 time of one post:

- **sender, SMTP up**: ``POST /psonlinechat/offline`` as shipped; a real SMTP server
  (aiosmtpd) receives the mails from the app's sender thread. Also: seconds until the last
  mail arrived after the last post.
- **sender, SMTP stalled**: the same, the SMTP server a listener that never answers.
- **in the request, SMTP up / stalled** (the path before the sender): a bare endpoint that
  stores the post as the shipped one does, then sends its mail before answering
  (``MailQueue.send``), as ``web/offline.py`` did. Stalled, each post waits for the SMTP
  time-out (10 s): ``--stalled-sync`` posts only.
- **reference**: a bare endpoint inserting the message and its mail row in one transaction
  (no checks, no mail): the database's floor.
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import socket
import statistics
import sys
import time
from collections.abc import Callable

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.support: fresh PrestaShop databases, SMTP server

import sqlalchemy as sa  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

from psonlinechat import get_state, testing  # noqa: E402
from psonlinechat.mail.offline import receive  # noqa: E402
from psonlinechat.shop import installer  # noqa: E402
from psonlinechat.store import configuration  # noqa: E402
from psonlinechat.store import offline_messages as repo  # noqa: E402
from tests.support import shopdb  # noqa: E402
from tests.support.apps import chat_app  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402

POST = {"firstname": "Ann", "lastname": "Lee", "email": "ann@example.test",
        "message": "Is the red one in stock?", "page_url": "https://127.0.0.1/en/shirts"}
_addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


def configure(db: shopdb.ShopDatabase, port: int) -> None:
    with db.engine.begin() as conn:
        for name, value in {"PS_MAIL_METHOD": "2", "PS_MAIL_SERVER": "127.0.0.1",
                            "PS_MAIL_SMTP_PORT": str(port), "PS_MAIL_SMTP_ENCRYPTION": "off",
                            "PS_SHOP_EMAIL": "shop@example.test",
                            "PS_SHOP_NAME": "Bench shop"}.items():
            configuration.update_value(conn, db.tables, name, value)
        conn.execute(sa.delete(db.tables.mail))
        conn.execute(sa.delete(db.tables.offline_message))


def reference_app(app: Flask) -> Flask:
    """A bare app on ``app``'s shop (so no mail sender of its own): ``/sync`` (stored, then
    mailed in the request) and ``/floor`` (two INSERTs)."""
    state = get_state(app)
    bare = Flask(__name__)
    bare.config.update(app.config)
    bare.extensions.update(app.extensions)

    @bare.post("/sync")
    def sync():  # type: ignore[no-untyped-def]
        queue = state.mail.queue()
        received = receive(state.shop, state.identify_visitor(request), request.get_json(),
                           ip=request.remote_addr or "", now=queue.now())
        return jsonify({"mail": queue.send(received.id_mail or 0)}), 201

    @bare.post("/floor")
    def floor():  # type: ignore[no-untyped-def]
        now = state.mail.queue().now()
        with state.shop.connect() as conn:
            row = {**request.get_json(), "id_shop": 1, "id_lang": 1, "ip": request.remote_addr}
            id_message = repo.insert_message(conn, state.tables, row, now)
            repo.enqueue(conn, state.tables, id_message, now)
            conn.commit()
        return jsonify({"id": id_message}), 201

    return bare


def run(app: Flask, path: str, posts: int) -> tuple[float, list[float]]:
    """Posts per second and each post's seconds."""
    client = app.test_client(use_cookies=False)
    times = []
    start = time.perf_counter()
    for _ in range(posts):
        began = time.perf_counter()
        response = client.post(path, json=POST, base_url="http://127.0.0.1",
                               headers={"Origin": "http://127.0.0.1"},
                               environ_base={"REMOTE_ADDR": next(_addresses)})
        times.append(time.perf_counter() - began)
        assert response.status_code == 201, response.get_data(as_text=True)
    return posts / (time.perf_counter() - start), times


def mails_sent(db: shopdb.ShopDatabase) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(db.tables.mail)
                            .where(db.tables.mail.c.state == "sent")).scalar_one()


def drain(check: Callable[[], bool], timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while not check() and time.perf_counter() - start < timeout:
        time.sleep(0.01)
    return time.perf_counter() - start


def row(name: str, rate: float, times: list[float], floor: float, extra: str = "") -> str:
    p99 = statistics.quantiles(times, n=100)[98] if len(times) >= 2 else times[0]
    return (f"| {name} | {rate:.1f} | {statistics.median(times) * 1000:.1f} | "
            f"{p99 * 1000:.1f} | {rate / floor:.2f} | {extra} |")


def measure(db: shopdb.ShopDatabase, posts: int, stalled_sync: int) -> list[str]:
    app = chat_app(db, testing.make_cookie_keys())
    bare = reference_app(app)
    lines = []
    try:
        configure(db, 9)
        floor, floor_times = run(bare, "/floor", posts)
        with SmtpServer() as server:
            configure(db, server.port)
            rate, times = run(app, "/psonlinechat/offline", posts)
            waited = drain(lambda: len(server.messages) >= posts)
            lines.append(row("sender, SMTP up", rate, times, floor,
                             f"all {len(server.messages)} mails in {waited:.2f} s more"))
            get_state(app).stop_chat()  # the old path sends its own
            configure(db, server.port)
            sync_rate, sync_times = run(bare, "/sync", posts)
            lines.append(row("in the request, SMTP up", sync_rate, sync_times, floor))
        with socket.create_server(("127.0.0.1", 0), backlog=4096) as silent:
            configure(db, silent.getsockname()[1])
            rate, times = run(app, "/psonlinechat/offline", posts)
            lines.append(row("sender, SMTP stalled", rate, times, floor,
                             f"{mails_sent(db)} sent, all kept pending"))
            get_state(app).stop_chat()  # its thread leaves after the mail it waits on
            configure(db, silent.getsockname()[1])
            rate, times = run(bare, "/sync", stalled_sync)
            lines.append(row("in the request, SMTP stalled", rate, times, floor,
                             f"{stalled_sync} posts"))
        lines.append(row("reference: two INSERTs", floor, floor_times, floor))
    finally:
        get_state(app).stop_chat()
        get_state(app).engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--stalled-sync", type=int, default=2,
                        help="posts through the old path while SMTP stalls (10 s each)")
    args = parser.parse_args()
    db = shopdb.create("ps_")
    try:
        installer.install(db.engine, db.tables)
        lines = measure(db, args.posts, args.stalled_sync)
    finally:
        db.drop()
    print(f"offline posts, {args.posts} per case, one client, MariaDB, one process")
    print("| case | posts/s | p50 ms | p99 ms | posts/s vs reference | |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
