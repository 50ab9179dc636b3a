"""The demo storefront in a real browser: the widget arrives through the FragmentInjector,
a visitor chats with the demo's terminal operator, and an offline message lands in the
outbox."""

from __future__ import annotations

import threading
import time

import pytest
from playwright.sync_api import expect

from psonlinechat import get_state
from psonlinechat.demo import operator
from psonlinechat.demo.app import credentials
from psonlinechat.web.translations import translations
from tests.support.liveserver import LiveServer


def say(message: str, lang: str = "en") -> str:
    return translations(lang, "widget").gettext(message)


@pytest.fixture
def served(demo):
    with LiveServer(demo) as server:
        yield server


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def online(demo, served):
    """The demo's employee online through the terminal operator: its printed lines."""
    _, employee = credentials(demo)
    cookie = operator.sign_in(served.url, employee.email, employee.password)
    socket = operator.connect(served.url, cookie)
    lines: list[str] = []
    console = operator.TerminalOperator(socket, say=lines.append)
    console.go_online()
    threading.Thread(target=console.listen, daemon=True).start()
    yield console, lines
    console.go_offline()


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_a_visitor_chats_with_the_terminal_operator(served, page, online):
    console, lines = online
    page.goto(served.url + "/")
    page.get_by_role("button", name=say("Chat with us")).click()
    panel = page.get_by_role("dialog")
    expect(panel).to_be_visible()
    panel.get_by_role("textbox", name=say("Message"), exact=True).fill("Is the mug in stock?")
    panel.get_by_role("button", name=say("Send"), exact=True).click()
    wait_for(lambda: any(line.endswith(": Is the mug in stock?") for line in lines))
    console.reply("Yes, twelve of them.")
    expect(panel.get_by_role("log")).to_contain_text("Yes, twelve of them.")


def test_the_french_storefront_speaks_french(served, page, online):
    page.goto(served.url + "/language/fr")
    expect(page.get_by_role("button", name=say("Chat with us", "fr"))).to_be_visible()
    assert say("Chat with us", "fr") != "Chat with us"


def test_an_offline_message_lands_in_the_outbox(demo, served, page, tmp_path):
    page.goto(served.url + "/")
    page.get_by_role("button", name=say("Chat with us")).click()
    form = page.get_by_role("dialog")
    form.get_by_role("textbox", name=say("First name")).fill("Ann")
    form.get_by_role("textbox", name=say("Last name")).fill("Smith")
    form.get_by_role("textbox", name=say("Email")).fill("ann@example.test")
    form.get_by_role("textbox", name=say("Message"), exact=True).fill("Call me <b>back</b>")
    form.get_by_role("button", name=say("Send"), exact=True).click()
    thanks = say("Thank you, your message has been sent. We will answer as soon as we can.")
    expect(page.get_by_role("status").filter(has_text=thanks)).to_be_visible()
    outbox = tmp_path / "data" / "outbox"
    [mail] = wait_for(lambda: list(outbox.glob("*.eml")))
    text = mail.read_bytes()
    assert b"Reply-To: ann@example.test" in text
    assert get_state(demo).mailer is not None
