"""The shop behind real nginx + php-fpm and Apache + mod_php, configured from the recipes
in docs/deploy/, with the bridge under ``psonlinechat serve``, seen by headless Chromium.

Each test runs through both proxies (the ``site`` fixture): the module's fragments reach
the storefront and the back office with the visitor's cookies and host; the proxy-injection
recipe does the same for a page without the module; a visitor's WebSocket through the proxy
and an operator's carry a conversation; a foreign Origin is refused; a stopped bridge leaves
the page whole.
"""

from __future__ import annotations

import json
import secrets
import socket
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.deploy.conftest import Site, point_module_at, warm
from tests.support.served import ServeProcess, next_event

pytestmark = pytest.mark.slow


def proxied_socket(url: str, role: str, cookie: str | None = None, origin: str | None = None,
                   ping_interval: float | None = 20):
    """A WebSocket to the bridge through the proxy at ``url``, from the shop's own page."""
    ws = ws_connect(f"{url.replace('http://', 'ws://')}/psonlinechat/ws/{role}",
                    origin=origin or url, additional_headers={"Cookie": cookie} if cookie else None,
                    proxy=None, compression=None, open_timeout=10, close_timeout=2,
                    ping_interval=ping_interval)
    return ws.__enter__()


def operator_online(url: str, cookie: str, ping_interval: float | None = 20):
    ws = proxied_socket(url, "operator", cookie, ping_interval=ping_interval)
    ws.send(json.dumps({"type": "hello"}))
    next_event(ws, "recap")
    ws.send(json.dumps({"type": "status", "online": True}))
    assert next_event(ws, "status")["online"] is True
    return ws


def sign_in_customer(page, site_url: str, deploy_shop) -> int:
    id_customer, (name, value) = deploy_shop.db.signed_in_customer(
        deploy_shop.keys, email=f"c-{secrets.token_hex(4)}@example.test")
    page.context.add_cookies([{"name": name, "value": value, "url": site_url}])
    return id_customer


def test_the_module_prints_the_fragments_with_the_visitors_cookies(site: Site, page, deploy_shop):
    id_customer = sign_in_customer(page, site.url, deploy_shop)
    page.goto(f"{site.url}/index.php")
    probe = page.locator("footer #psoc-probe")
    assert probe.count() == 1
    assert probe.get_attribute("data-customer") == str(id_customer), "the cookie reached the bridge"
    assert probe.get_attribute("data-language").startswith("en-US")
    assert probe.get_attribute("data-forwarded-for").startswith("127.0.0.1")
    assert page.locator("head meta[name=psoc-probe-head]").count() == 1
    assert page.locator("footer psonlinechat-widget").count() == 1, "the storefront widget"


def test_the_back_office_page_gets_the_employees_fragment(site: Site, page, deploy_shop):
    name, value = deploy_shop.cookie.split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": site.url}])
    page.goto(f"{site.url}/admin-dev/index.php")
    probe = page.locator("#psoc-probe-bo")
    assert probe.count() == 1
    assert probe.get_attribute("data-employee") != "0", "the psAdmin cookie reached the bridge"
    answer = page.goto(f"{site.url}/psonlinechat/admin/")  # where the Online Chat tab leads
    assert answer.status == 200, "the chat's pages answer the signed-in employee"
    assert answer.url.startswith(f"{site.url}/psonlinechat/admin/"), "redirects keep the host"


def test_the_proxy_injects_the_fragments_into_a_page_without_the_module(site: Site, page,
                                                                        deploy_shop):
    id_customer = sign_in_customer(page, site.inject_url, deploy_shop)
    page.goto(f"{site.inject_url}/index.php?nomodule=1")
    probe = page.locator("body > #psoc-probe")  # injected before </body>, after the footer
    assert probe.count() == 1
    assert probe.get_attribute("data-customer") == str(id_customer), "SSI kept the cookie"
    assert probe.get_attribute("data-host") == f"127.0.0.1:{site.inject_port}"
    assert page.locator("head meta[name=psoc-probe-head]").count() == 1
    assert page.locator("body > psonlinechat-widget").count() == 1, "the storefront widget"
    assert "<!--#" not in page.content(), "no SSI directive left behind"
    page.get_by_role("button", name="Add to cart").click()
    assert page.locator("#posted").inner_text() == "Added 1", "POST pages still work"
    assert page.locator("body > #psoc-probe").count() == 1


def test_a_visitor_and_an_operator_chat_through_the_proxy(site: Site, page, deploy_shop):
    id_customer = sign_in_customer(page, site.url, deploy_shop)
    page.goto(f"{site.url}/index.php")
    with operator_online(site.url, deploy_shop.cookie) as operator:
        page.evaluate("""() => {
            window.psocEvents = [];
            const ws = new WebSocket(`ws://${location.host}/psonlinechat/ws/visitor`);
            window.psocSocket = ws;
            ws.onmessage = (event) => window.psocEvents.push(JSON.parse(event.data));
            ws.onopen = () => ws.send(JSON.stringify({type: "hello", page_url: location.href}));
        }""")
        page.wait_for_function("() => window.psocEvents.some(e => e.type === 'welcome')")
        page.evaluate("""() => window.psocSocket.send(JSON.stringify(
            {type: "message", client_id: "v-1", body: "Is the blue teapot in stock?"}))""")
        opened = next_event(operator, "conversation")["conversation"]
        assert opened["customer"]["id_customer"] == id_customer, "the socket knew the customer"
        seen = next_event(operator, "message")
        assert seen["body"] == "Is the blue teapot in stock?"
        operator.send(json.dumps({"type": "message", "id_conversation": seen["id_conversation"],
                                  "client_id": "o-1", "body": "Yes, three left."}))
        page.wait_for_function("""() => window.psocEvents.some((e) => e.type === 'message'
            && e.author === 'operator' && e.body === 'Yes, three left.')""")


def test_a_foreign_origin_is_refused_through_the_proxy(site: Site, deploy_shop):
    with pytest.raises(InvalidStatus) as refused:
        proxied_socket(site.url, "visitor", origin="http://evil.example")
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as refused:
        proxied_socket(site.url, "operator", deploy_shop.cookie, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    proxied_socket(site.url, "visitor").close()  # the shop's own origin passes


def test_a_stopped_bridge_leaves_the_page_whole(site: Site, page, folder, docroot, deploy_shop):
    from tests.deploy.conftest import bridge_env

    server = ServeProcess([], bridge_env(folder, deploy_shop))
    name = f"stopped{site.name}"
    try:
        with server:
            point_module_at(docroot, name, server.http)
            warm(server)
            page.goto(f"{site.url}/index.php?bridge={name}")
            assert page.locator("#psoc-probe").count() == 1, site.log_lines()[-3:]
    finally:
        server.close()
    before = len(site.log_lines())
    started = time.monotonic()
    page.goto(f"{site.url}/index.php?bridge={name}")
    elapsed = time.monotonic() - started
    assert page.locator("#rendered").count() == 1 and page.locator("#psoc-probe").count() == 0
    assert page.locator("psonlinechat-widget").count() == 0
    [line] = site.log_lines()[before:]  # one line for the page, though it has two hooks
    assert "cURL error 7 " in line and "[timeouts: connect 300 ms, total 800 ms]" in line, line
    print(f"\n{site.name}: page with the bridge stopped rendered in {elapsed * 1000:.0f} ms")


def test_a_hung_bridge_costs_the_page_the_modules_timeout_once(site: Site, page, docroot):
    """A bridge that accepts connections but never answers: the module's total timeout
    (0.8 s, cURL error 28) ends the wait, and the page's second hook does not wait again."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as hung:
        name = f"hung{site.name}"
        point_module_at(docroot, name, f"http://127.0.0.1:{hung.getsockname()[1]}")
        before = len(site.log_lines())
        started = time.monotonic()
        page.goto(f"{site.url}/index.php?bridge={name}")
        elapsed = time.monotonic() - started
    assert page.locator("#rendered").count() == 1 and page.locator("#psoc-probe").count() == 0
    [line] = site.log_lines()[before:]
    assert "cURL error 28 " in line and "total 800 ms" in line, line
    print(f"\n{site.name}: page with the bridge hung rendered in {elapsed * 1000:.0f} ms")
