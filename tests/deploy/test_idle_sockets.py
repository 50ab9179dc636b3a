"""Chat sockets through nginx and Apache stay open when nothing moves for 2 minutes.

The bridge here pings only every 150 s (``PSONLINECHAT_HEARTBEAT_SECONDS``) and the clients
never ping, so for the whole idle time not one byte crosses the proxies: what keeps the
sockets open is the recipes' long timeouts (nginx's default ``proxy_read_timeout`` and
Apache's default ``Timeout`` are both 60 s). The test idles for real, once, for both proxies.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from tests.deploy.conftest import apache_site, bridge_env, nginx_site
from tests.deploy.test_proxies import operator_online, proxied_socket
from tests.support.served import ServeProcess, next_event

IDLE_SECONDS = 125


@pytest.mark.slow
@pytest.mark.timeout(IDLE_SECONDS + 120)
def test_sockets_idle_for_two_minutes_stay_open(folder, docroot, deploy_shop, fpm):
    server = ServeProcess([], bridge_env(folder, deploy_shop,
                                         PSONLINECHAT_HEARTBEAT_SECONDS="150"))
    with contextlib.ExitStack() as stack:
        stack.callback(server.close)
        stack.enter_context(server)
        sites = []
        for build in (lambda: nginx_site(folder / "idle", docroot, server.port, fpm.port),
                      lambda: apache_site(folder / "idle", docroot, server.port)):
            daemon, site = build()
            stack.enter_context(daemon)
            sites.append(site)
        pairs = []
        for site in sites:
            operator = stack.enter_context(
                operator_online(site.url, deploy_shop.cookie, ping_interval=None))
            visitor = stack.enter_context(proxied_socket(site.url, "visitor", ping_interval=None))
            visitor.send(json.dumps({"type": "hello"}))
            assert next_event(visitor, "welcome")["state"] == "online"
            pairs.append((site, operator, visitor))
        time.sleep(IDLE_SECONDS)
        for site, operator, visitor in pairs:
            visitor.send(json.dumps({"type": "message", "client_id": f"idle-{site.name}",
                                     "body": f"Still there, {site.name}?"}))
            assert next_event(visitor, "ack")["client_id"] == f"idle-{site.name}"
            body = f"Still there, {site.name}?"
            while next_event(operator, "message")["body"] != body:
                pass  # the other proxy's visitor, seen by this operator too
