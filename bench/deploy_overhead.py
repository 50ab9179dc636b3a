"""What the PrestaShop module adds to a page's render, measured through nginx + php-fpm
(or Apache + mod_php with ``--server apache``).

The stand-in storefront of tests/deploy (``tests/deploy/php/shop/index.php``) is requested
through nginx configured from docs/deploy/, with the bridge under ``psonlinechat serve`` on
a fresh test shop, in four ways, the same number of times, one after the other:

- ``no module``: the same page without the module (``?nomodule=1``), the reference;
- ``bridge up``: the module fetches displayHeader and displayFooter from the bridge;
- ``bridge down``: nothing listens at the module's bridge URL (connection refused);
- ``bridge hung``: a socket accepts the connection but never answers, so the module's
  0.8 s total timeout is what ends the wait (once per page: the footer skips the bridge).

Prints the median and p90 per way and the difference and ratio against ``no module``::

    .venv/bin/python bench/deploy_overhead.py --requests 200
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import shutil
import socket
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from psonlinechat.shop import installer  # noqa: E402
from tests.deploy import conftest as deploy  # noqa: E402
from tests.support import shopdb, webservers  # noqa: E402
from tests.support.served import ServedShop, ServeProcess, free_port  # noqa: E402


def timings(url: str, requests: int) -> list[float]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    values = []
    for _ in range(requests):
        started = time.perf_counter()
        with opener.open(url, timeout=10) as response:
            response.read()
        values.append((time.perf_counter() - started) * 1000)
    return values


def report(results: dict[str, list[float]]) -> None:
    reference = statistics.median(results["no module"])
    print(f"{'page':<12} {'median ms':>10} {'p90 ms':>8} {'+ms vs ref':>11} {'ratio':>6}")
    for name, values in results.items():
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<12} {median:>10.1f} {p90:>8.1f} {median - reference:>+11.1f} "
              f"{median / reference:>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--server", choices=("nginx", "apache"), default="nginx",
                        help="nginx + php-fpm, or Apache + mod_php")
    args = parser.parse_args()
    folder = deploy.make_folder()
    db = shopdb.create()
    hung = socket.create_server(("127.0.0.1", 0), backlog=64)  # accepts, never answers
    try:
        installer.install(db.engine, db.tables)
        shop = ServedShop.create(db)
        docroot = deploy.build_docroot(folder)
        deploy.point_module_at(docroot, "down", f"http://127.0.0.1:{free_port()}")
        deploy.point_module_at(docroot, "hung", f"http://127.0.0.1:{hung.getsockname()[1]}")
        with contextlib.ExitStack() as stack:
            bridge = ServeProcess([], shop.env())
            stack.callback(bridge.close)
            stack.enter_context(bridge)
            deploy.warm(bridge)
            deploy.point_module_at(docroot, "main", bridge.http)
            if args.server == "nginx":
                fpm = stack.enter_context(webservers.php_fpm(folder))
                daemon, site = deploy.nginx_site(folder, docroot, bridge.port, fpm.port)
            else:
                daemon, site = deploy.apache_site(folder, docroot, bridge.port)
            stack.enter_context(daemon)
            page = f"{site.url}/index.php"
            ways = {"no module": f"{page}?nomodule=1", "bridge up": page,
                    "bridge down": f"{page}?bridge=down",
                    "bridge hung": f"{page}?bridge=hung"}
            for url in ways.values():
                timings(url, 3)  # warm up php-fpm's opcache and the bridge's pool
            results = {name: timings(url, args.requests if name != "bridge hung"
                                     else max(5, args.requests // 20))
                       for name, url in ways.items()}
        print(f"through {args.server}, {args.requests} requests a way "
              f"({max(5, args.requests // 20)} for the hung bridge)")
        report(results)
    finally:
        hung.close()
        db.drop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
