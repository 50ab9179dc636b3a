"""What the operator console costs a back-office page, beside the same page without it.

A fresh MariaDB shop (tests/support) serves one back-office page through FragmentInjector, as
a proxied shop's would. Headless Chromium loads it ``--runs`` times, each in a fresh context
(a cold cache): signed out (the plain page: no fragment) and signed in as an employee (the
page carries the console); a third series loads it again in a context that already loaded it
(a warm cache: the next page of a back-office session). Printed per series, medians:
requests and bytes fetched from the network (each response body gzip-compressed at level 6,
as a shop's server would send it; the browser's cache hits and the WebSocket not counted),
the page's first byte (the server's time, fragments included), DOMContentLoaded and load, and
"interactive": when the console's Online switch is enabled
(its socket's recap arrived) or, without the console, when the load event fired. Then the
ratios to the plain page.

    .venv/bin/python bench/console_cost.py --runs 7
"""

from __future__ import annotations

import argparse
import gzip
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from psonlinechat.web.inject import FragmentInjector  # noqa: E402
from tests.support.chatclient import ChatShop  # noqa: E402

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Orders</title>
</head><body><main><h1>Orders</h1><p>{filler}</p></main></body></html>"""
CHROMIUM = "/usr/bin/chromium"


def shop_with_a_back_office() -> ChatShop:
    shop = ChatShop()
    app = shop.app
    page = PAGE.format(filler="An order list. " * 200)
    app.add_url_rule("/admin/orders", "orders", lambda: page)
    app.wsgi_app = FragmentInjector(app.wsgi_app, app, back_office=True,
                                    pages=lambda env: env["PATH_INFO"].startswith("/admin"))
    return shop


def load(browser, url: str, cookies: list, *, warm: bool) -> dict[str, float]:
    origin = url.split("/admin", 1)[0]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": n, "value": v, "url": origin} for n, v in cookies])
    page = context.new_page()
    if warm:
        page.goto(url)
        page.wait_for_load_state("load")
    finished: list = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_load_state("load")
    if cookies:
        page.wait_for_selector("[role=switch]:not([disabled])")
        interactive = page.evaluate("performance.now()")
    else:
        interactive = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    nav = page.evaluate("(({responseStart: r, domContentLoadedEventEnd: d, loadEventEnd: l})"
                        " => [d, l, r])(performance.getEntriesByType('navigation')[0])")
    cached = set(page.evaluate("performance.getEntriesByType('resource')"
                               ".filter(e => e.transferSize === 0).map(e => e.name)"))
    sizes = [len(gzip.compress(request.response().body(), 6)) for request in finished
             if request.url not in cached]
    figures = {"requests": len(sizes), "gzipped bytes": sum(sizes), "first byte ms": nav[2],
               "DOMContentLoaded ms": nav[0],
               "load ms": nav[1], "interactive ms": interactive}
    context.close()
    return figures


def series(browser, url, cookies, runs, warm=False) -> dict[str, float]:
    results = [load(browser, url, cookies, warm=warm) for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    shop = shop_with_a_back_office()
    try:
        url = shop.origin + "/admin/orders"
        employee = shop.employee()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            table = {"plain": series(browser, url, [], args.runs),
                     "console, cold": series(browser, url, employee, args.runs),
                     "console, warm": series(browser, url, employee, args.runs, True)}
            browser.close()
    finally:
        shop.close()
    keys = list(next(iter(table.values())))
    print(f"back-office page, {args.runs} runs each, medians")
    print(f"{'':14}" + "".join(f"{k:>20}" for k in keys))
    for name, row in table.items():
        print(f"{name:14}" + "".join(f"{row[k]:>20.0f}" for k in keys))
    plain = table["plain"]
    for name, label in (("console, cold", "cold / plain"), ("console, warm", "warm / plain")):
        ratios = "".join(f"{table[name][k] / plain[k]:>19.2f}x" if plain[k] else f"{'-':>20}"
                         for k in keys)
        print(f"{label:14}" + ratios)


if __name__ == "__main__":
    main()
