"""The demo's terminal operator: signs in to the back office, opens the operator socket, goes
online through the engine, and chats with a visitor on a real socket."""

from __future__ import annotations

import http.cookiejar
import queue
import subprocess
import sys
import threading
import urllib.request

import pytest

from psonlinechat import get_state
from psonlinechat.demo import operator
from psonlinechat.demo.app import credentials
from psonlinechat.web.front.availability import storefront_availability
from tests.support.chatclient import ChatClient
from tests.support.liveserver import LiveServer


@pytest.fixture
def served(demo):
    with LiveServer(demo) as server:
        yield server


def lines_of(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for(lines: queue.Queue, start: str, timeout: float = 15.0) -> str:
    seen = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line starting {start!r}; saw {seen}") from None
        seen.append(line)
        if line.startswith(start):
            return line


def visitor(server: LiveServer) -> ChatClient:
    jar = http.cookiejar.CookieJar()
    urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)).open(
        server.url + "/language/fr").read()  # the shop cookie a browser gets
    return ChatClient(server.url.replace("http", "ws") + "/psonlinechat/ws/visitor",
                      cookies=[(c.name, c.value) for c in jar], origin=server.url)


@pytest.mark.slow  # the operator runs in a subprocess, as from a terminal
def test_the_terminal_operator_brings_the_shop_online_and_chats(demo, served, tmp_path):
    state, id_shop = get_state(demo), demo.extensions["psonlinechat_demo"].id_shop
    assert storefront_availability(state, id_shop) == "offline_form"
    _, employee = credentials(demo)
    with subprocess.Popen(
            [sys.executable, "-m", "psonlinechat.demo.operator", "--url", served.url,
             "--password", employee.password], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        try:
            chat_through_the_terminal(process, served, employee.email)
        finally:
            if process.poll() is None:
                process.kill()


def chat_through_the_terminal(process: subprocess.Popen, served: LiveServer, email: str) -> None:
    lines = lines_of(process)
    assert email in wait_for(lines, "Online as")
    with visitor(served) as guest:
        assert guest.hello(page_url=served.url + "/")["state"] == "online"
        guest.say("Bonjour, vous livrez à Lyon ?")
        assert wait_for(lines, "[#").endswith(": Bonjour, vous livrez à Lyon ?")
        process.stdin.write("Oui, en deux jours.\n")
        process.stdin.flush()
        answer = guest.expect(lambda e: e["type"] == "message" and e["author"] == "operator")
        assert answer["body"] == "Oui, en deux jours."
        process.stdin.write("/quit\n")
        process.stdin.flush()
        assert guest.expect("ended")["by"] == "system"  # the last operator left
    assert process.wait(timeout=15) == 0
    assert wait_for(lines, "Offline.")


def test_a_wrong_password_is_refused_before_any_socket(served):
    with pytest.raises(operator.SignInFailed, match="refused"):
        operator.sign_in(served.url, "demo@prestashop.com", "not-the-password")
    with pytest.raises(operator.SignInFailed, match="no demo answers"):
        operator.sign_in("http://127.0.0.1:9", "demo@prestashop.com", "x")


def test_a_signed_in_operator_gets_the_real_back_office_cookie(demo, served):
    _, employee = credentials(demo)
    header = operator.sign_in(served.url, employee.email, employee.password)
    request = urllib.request.Request(served.url + "/admin-demo/", headers={"Cookie": header})
    with urllib.request.urlopen(request, timeout=10) as page:
        assert page.geturl().endswith("/admin-demo/")  # not sent to the sign-in page
