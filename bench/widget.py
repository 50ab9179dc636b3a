"""What the storefront widget costs, each figure beside a reference measured in the same run.

```
.venv/bin/python bench/widget.py                      # all three parts
.venv/bin/python bench/widget.py --only page,footer --duration 5 --posts 2000
```

- **page**: the demo's home page in headless Chromium (Playwright, /usr/bin/chromium) through
  the FragmentInjector, with an operator online: requests and gzipped bytes once the page has
  loaded (before intent), then after the visitor hovers and opens the chat panel (the panel's
  dialog shown, its socket open). Reference: the same page from the same app without the
  middleware (no fragments).
- **footer**: ``render_hook(app, "displayFooter", environ)`` on a warm app over MariaDB, one
  fresh request environ per render, for an anonymous visitor (a shop cookie with a guest) and
  a signed-in customer: renders per second and queries per render (a
  ``before_cursor_execute`` listener on the engine). Reference: Jinja rendering a static
  template of the same size.
- **offline**: ``POST /psonlinechat/offline`` on a live Werkzeug server (threaded, its own
  process) over MariaDB, ``--concurrency`` clients, each post from its own loopback address
  every 5 posts (the per-address limit stays on). Reference: a bare Flask endpoint on the
  same server and database inserting one row of the same columns.

Sizes are response bodies compressed with gzip level 6, as a shop's server would send them
(the demo's server does not compress). Socket frames are not counted as bytes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import http.client
import json
import logging
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.support: fresh PrestaShop databases on MariaDB

import jinja2  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from psonlinechat import OnlineChat, get_state, testing  # noqa: E402
from psonlinechat.shop import installer  # noqa: E402
from tests.support import shopdb  # noqa: E402
from tests.support.apps import chat_app  # noqa: E402
from tests.support.liveserver import LiveServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
POST_BODY = {"firstname": "Ann", "lastname": "Smith", "email": "ann@example.test",
             "message": "Do you ship to Lyon? I would need the mug by Friday.",
             "page_url": "http://127.0.0.1/product/1"}


def row(name: str, ours: float, reference: float, digits: int = 1) -> str:
    ratio = f"{ours / reference:.3g}" if reference else "-"
    return f"| {name} | {ours:.{digits}f} | {reference:.{digits}f} | {ratio} |"


def table(title: str, columns: tuple[str, str], rows: list[str]) -> str:
    head = f"| figure | {columns[0]} | {columns[1]} | ours / reference |\n|---|---|---|---|"
    return "\n".join([f"\n{title}\n", head, *rows])


# --- page: real Chromium ----------------------------------------------------------------

class Traffic:
    """What one page asked for: requests, and the gzipped size of each answer's body."""

    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.sockets: list[str] = []
        self.responses: list[Any] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.responses.append(r))
        page.on("websocket", lambda ws: self.sockets.append(ws.url))

    def gzipped(self) -> int:
        total = 0
        for response in self.responses:
            try:
                body = response.body()
            except Exception:  # a redirect has no body
                continue
            total += len(gzip.compress(body, 6)) if body else 0
        return total

    def mark(self) -> tuple[int, int, int]:
        return len(self.requests), self.gzipped(), len(self.sockets)


def page_figures(url: str, browser: Any, open_chat: bool) -> dict[str, tuple[int, int, int]]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        traffic = Traffic(page)
        page.goto(url, wait_until="networkidle")
        page.wait_for_timeout(500)
        figures = {"before": traffic.mark()}
        if open_chat:
            launcher = page.get_by_role("button", name="Chat with us")
            launcher.hover()
            launcher.click()
            page.get_by_role("dialog").wait_for(state="visible")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)
            figures["after"] = traffic.mark()
        return figures
    finally:
        context.close()


def bench_page() -> str:
    from playwright.sync_api import sync_playwright

    from psonlinechat.demo import operator
    from psonlinechat.demo.app import create_app, credentials

    with tempfile.TemporaryDirectory() as data:
        app = create_app(pathlib.Path(data) / "demo")
        bare = app.wsgi_app.wsgi_app  # type: ignore[attr-defined]  # inside the middleware
        with LiveServer(app) as served, LiveServer(bare) as reference:
            _, employee = credentials(app)
            cookie = operator.sign_in(served.url, employee.email, employee.password)
            socket = operator.connect(served.url, cookie)
            console = operator.TerminalOperator(socket, say=lambda line: None)
            console.go_online()
            threading.Thread(target=console.listen, daemon=True).start()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM)
                ours = page_figures(served.url + "/", browser, open_chat=True)
                plain = page_figures(reference.url + "/", browser, open_chat=False)
                browser.close()
            console.go_offline()
        get_state(app).stop_chat()
        get_state(app).engine.dispose()
    return page_table(ours, plain)


def page_table(ours: dict, plain: dict) -> str:
    (req0, size0, _), (req1, size1, sockets) = ours["before"], ours["after"]
    ref_req, ref_size, _ = plain["before"]
    rows = [row("requests before intent", req0, ref_req, 0),
            row("bytes gzipped before intent", size0, ref_size, 0),
            f"| widget's own bytes before intent (gzipped) | {size0 - ref_size} | - | - |",
            row("requests after opening the chat", req1, ref_req, 0),
            row("bytes gzipped after opening the chat", size1, ref_size, 0),
            f"| widget's own bytes after opening (gzipped) | {size1 - ref_size} | - | - |",
            f"| sockets open after opening | {sockets} | 0 | - |"]
    return table("Page (demo home, Chromium)", ("with the widget", "page without fragments"),
                 rows)


# --- footer: renders per second -----------------------------------------------------------

def timed(work: Callable[[], Any], duration: float) -> tuple[int, float]:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < duration:
        work()
        count += 1
    return count, elapsed


def footer_run(app: Flask, cookie: tuple[str, str], duration: float) -> tuple[float, float, str]:
    from psonlinechat.web.fragments import render_hook

    environ = EnvironBuilder(path="/", base_url="http://127.0.0.1/", headers={
        "Cookie": f"{cookie[0]}={cookie[1]}"}).get_environ()
    html = ""
    for _ in range(20):  # warm: snapshot, settings, availability, templates
        html = render_hook(app, "displayFooter", dict(environ))
    statements: list[str] = []
    engine = get_state(app).engine

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        count, elapsed = timed(lambda: render_hook(app, "displayFooter", dict(environ)),
                               duration)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return count / elapsed, len(statements) / count, str(html)


def static_rate(html: str, duration: float) -> float:
    template = jinja2.Environment(autoescape=True).from_string(
        "{% raw %}" + html + "{% endraw %}")
    count, elapsed = timed(template.render, duration)
    return count / elapsed


def bench_footer(duration: float) -> str:
    db = shopdb.create("ps_")
    try:
        installer.install(db.engine, db.tables)
        keys = testing.make_cookie_keys()
        app = chat_app(db, keys)
        anonymous = testing.anonymous_cookie(keys, shopdb.SHOP_DOMAIN, id_lang=db.ids["en"])
        _, customer = db.signed_in_customer(keys, email="ann@example.test")
        rows = []
        for who, cookie in (("anonymous visitor", anonymous), ("signed-in customer", customer)):
            rate, queries, html = footer_run(app, cookie, duration)
            rows.append(row(f"footer renders/s, {who}", rate, static_rate(html, duration)))
            rows.append(f"| queries per render, {who} | {queries:.3f} | 0 | - |")
            rows.append(f"| fragment size, {who} (bytes; gzipped) | {len(html.encode())};"
                        f" {len(gzip.compress(html.encode(), 6))} | same | - |")
        get_state(app).stop_chat()
        get_state(app).engine.dispose()
    finally:
        db.drop()
    return table("Footer fragment (warm, MariaDB, one thread)",
                 ("displayFooter", "static Jinja template, same size"), rows)


# --- offline posts ------------------------------------------------------------------------

def reference_app(url: str, prefix: str) -> Flask:
    """A bare Flask endpoint storing one row of the offline message's columns."""
    from psonlinechat.store import tables as tables_module

    engine = sa.create_engine(url, pool_size=20, pool_pre_ping=True)
    md = sa.MetaData()
    ours = tables_module.build(prefix).offline_message
    copy = ours.to_metadata(md, name="bench_offline_reference")
    md.create_all(engine)
    app = Flask(__name__)

    @app.post("/reference")
    def store():
        post = request.get_json(force=True)
        with engine.begin() as conn:
            new = conn.execute(sa.insert(copy).values(
                id_shop=1, id_lang=1, firstname=post["firstname"], lastname=post["lastname"],
                email=post["email"], phone="", message=post["message"],
                page_url=post["page_url"], ip=request.remote_addr or "",
                date_add=sa.func.now())).inserted_primary_key[0]
        response = jsonify({"id": new})
        response.status_code = 201
        return response

    return app


def serve(kind: str, url: str, prefix: str) -> None:
    """Child process: serve the chat app or the reference; print the port, serve forever."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    if kind == "offline":
        app = Flask(__name__)
        app.config.update({"PSONLINECHAT_DATABASE_URL": url,
                           "PSONLINECHAT_TABLE_PREFIX": prefix,
                           **testing.keys_config(testing.make_cookie_keys())})
        OnlineChat(app)
    else:
        app = reference_app(url, prefix)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


def post_all(port: int, path: str, posts: int, concurrency: int,
             first: int = 0) -> tuple[float, dict]:
    """``posts`` posts, numbered from ``first`` (which picks their source addresses)."""
    origin = f"http://127.0.0.1:{port}"
    body = json.dumps(POST_BODY).encode()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def one(number: int) -> None:
        client = number // 5  # a new address every 5 posts: the per-address limit
        address = f"127.{client // 62500 + 1}.{client // 250 % 250}.{client % 250 + 1}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                          source_address=(address, 0))
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json",
                                              "Origin": origin})
            status = conn.getresponse().status
        finally:
            conn.close()
        with lock:
            statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(first, first + posts)))
    return posts / (time.perf_counter() - start), statuses


def run_server(kind: str, db: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--serve", kind, "--url", db.url,
                             "--prefix", db.prefix], stdout=subprocess.PIPE, text=True)


def bench_offline(posts: int, concurrency: int) -> str:
    db = shopdb.create("ps_")
    processes = []
    try:
        installer.install(db.engine, db.tables)
        rates = {}
        for kind, path in (("offline", "/psonlinechat/offline"), ("reference", "/reference")):
            process = run_server(kind, db)
            processes.append(process)
            port = int(process.stdout.readline())
            post_all(port, path, 20, 4)  # warm: pools, first request
            rates[kind] = post_all(port, path, posts, concurrency, first=20)
        with db.engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(
                db.tables.offline_message)).scalar_one()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()
        db.drop()
    (ours, ours_status), (ref, ref_status) = rates["offline"], rates["reference"]
    if set(ours_status) != {201} or set(ref_status) != {201}:
        print(f"WARNING: not every post was stored: {ours_status} / {ref_status}")
    rows = [row(f"offline posts/s ({concurrency} clients)", ours, ref),
            f"| answers | {ours_status} | {ref_status} | - |",
            f"| rows stored (with warm-up) | {stored} | - | - |"]
    return table("Offline posts (Werkzeug threaded server, MariaDB)",
                 ("POST /offline", "bare Flask insert"), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="page,footer,offline")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per footer run")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.prefix)
        return
    parts = set(args.only.split(","))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    print(f"bench/widget.py on {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    if "page" in parts:
        print(bench_page(), flush=True)
    if "footer" in parts:
        print(bench_footer(args.duration), flush=True)
    if "offline" in parts:
        print(bench_offline(args.posts, args.concurrency), flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
