"""The operator console in a real headless Chromium (guide part 3A), against a real server on
the MariaDB shop; visitors are played by the Python socket client (tests/support/chatclient.py).

Elements are found by role and accessible name, as a screen reader finds them.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from psonlinechat.store import seed
from psonlinechat.web.inject import FragmentInjector
from tests.support import axe

pytestmark = pytest.mark.slow

STOREFRONT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mug</title>
</head><body><main><h1>Mountain fox mug</h1></main></body></html>"""
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} · Back office</title></head><body><main><h1>{title}</h1>
<nav aria-label="Back office"><a href="/admin/">Dashboard</a> <a href="/admin/orders">Orders</a>
</nav></main></body></html>"""


@pytest.fixture(scope="module")
def back_office(chat_shop):
    """The chat shop's app with two back-office pages (``/admin/``, ``/admin/orders``) that
    get the back-office fragments through the middleware, as a proxied shop's would."""
    app = chat_shop.app
    app.add_url_rule("/admin/", "bo_dashboard", lambda: PAGE.format(title="Dashboard"))
    app.add_url_rule("/admin/orders", "bo_orders", lambda: PAGE.format(title="Orders"))
    app.add_url_rule("/product/1", "product", lambda: STOREFRONT)
    app.wsgi_app = FragmentInjector(
        app.wsgi_app, app, back_office=lambda environ: environ["PATH_INFO"].startswith("/admin"),
        pages=lambda environ: not environ["PATH_INFO"].startswith("/psonlinechat"))
    return chat_shop


#: Uncaught errors of the console's pages in the current test (every test ends with none).
PAGE_ERRORS: list[str] = []


@pytest.fixture
def shop(back_office):
    PAGE_ERRORS.clear()
    yield back_office
    back_office.reset()
    assert PAGE_ERRORS == []


def employee_page(browser, shop, cookies=None, *, width=1366, height=900, script=None):
    """A new browser context signed in as an employee, on the dashboard: ``(page, cookies)``;
    ``script`` runs in every page before the page's own."""
    cookies = cookies or shop.employee()
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": name, "value": value, "url": shop.origin}
                         for name, value in cookies])
    if script:
        context.add_init_script(script)
    context.on("page", lambda new: new.on("pageerror", lambda e: PAGE_ERRORS.append(str(e))))
    page = context.new_page()
    page.goto(shop.origin + "/admin/")
    return page, cookies


def recap(page):
    return page.get_by_role("region", name="Online Chat")


def go_online(page):
    switch = recap(page).get_by_role("switch", name="Online")
    expect(switch).to_be_enabled()
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")


def guest_name(shop, ack) -> str:
    """The window's name for the anonymous visitor whose first message was acknowledged."""
    id_conversation = ack["conversation"]["id_conversation"]
    c = shop.db.tables.conversation.c
    (row,) = shop.query(sa.select(c.id_guest).where(c.id_conversation == id_conversation))
    return f"Guest #{row.id_guest}"


def online_console(browser, shop):
    """An employee's dashboard page with the shop put online from its console."""
    page, _ = employee_page(browser, shop)
    go_online(page)
    return page


def new_guest(shop, first: str):
    """A new anonymous visitor who says ``first``: ``(visitor, their window's name)``."""
    visitor = shop.visitor()
    return visitor, guest_name(shop, visitor.say(first))


def chat_window(page, name):
    return page.get_by_role("region", name=name, exact=True)


def statuses(shop) -> list[str]:
    c = shop.db.tables.conversation.c
    return [row.status for row in shop.query(sa.select(c.status).order_by(c.id_conversation))]


def test_nobody_but_an_employee_gets_the_console(page, shop):
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(shop.origin + "/admin/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(recap(page)).to_have_count(0)
    page.wait_for_timeout(300)
    assert sockets == []


def test_with_the_storefront_widget(browser, shop):
    page = online_console(browser, shop)
    store = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    store.set_default_timeout(10_000)
    visitor = store.new_page()
    visitor.goto(shop.origin + "/product/1")
    visitor.get_by_role("button", name=re.compile("Chat")).click()
    panel = visitor.get_by_role("dialog")
    panel.get_by_role("textbox", name="Message", exact=True).fill("Is the mug dishwasher-safe?")
    panel.get_by_role("button", name="Send", exact=True).click()
    window = page.get_by_role("region", name=re.compile(r"^Guest #\d+$"))
    expect(window.get_by_role("log")).to_contain_text("Is the mug dishwasher-safe?")
    expect(window).to_contain_text("/product/1")
    box = window.get_by_role("textbox", name="Message")
    box.press_sequentially("Yes, it")
    expect(panel).to_contain_text("is typing…")
    box.press_sequentially(" is.")
    box.press("Enter")
    expect(panel).to_contain_text("Yes, it is.")
    expect(panel).to_contain_text("Customer service")
    expect(window.get_by_text("Seen", exact=True)).to_be_visible()
    panel.get_by_role("textbox", name="Message", exact=True).press_sequentially("Great")
    expect(window).to_contain_text("is typing…")
    window.get_by_role("button", name="End the conversation").click()
    window.get_by_role("alertdialog").get_by_role("button", name="End the conversation").click()
    expect(panel).to_contain_text("Customer service ended the conversation.")
    visitor.screenshot(path="/tmp/console-widget-visitor.png")
    page.screenshot(path="/tmp/console-widget-operator.png")
    store.close()
    page.context.close()


def test_answer_type_see_end_and_reopen(browser, shop):
    page = online_console(browser, shop)
    visitor, name = new_guest(shop, "Hello, do you ship to Lyon?")
    window = chat_window(page, name)
    expect(window.get_by_role("log")).to_contain_text("Hello, do you ship to Lyon?")
    expect(window).to_contain_text("http://127.0.0.1/product/1")
    box = window.get_by_role("textbox", name="Message")
    box.press_sequentially("Yes, in two")
    visitor.expect("typing", author="operator", on=True)
    box.press_sequentially(" days.")
    box.press("Enter")
    answer = visitor.expect("message", author="operator")
    assert (answer["body"], answer["operator_name"]) == ("Yes, in two days.", "Customer service")
    expect(box).to_have_value("")
    visitor.send("typing", on=True)
    expect(window).to_contain_text(f"{name} is typing…")
    visitor.send("seen", seq=answer["seq"])
    expect(window.get_by_text("Seen", exact=True)).to_be_visible()
    visitor.expect("seen", by="operator")  # the window showed the visitor's message
    window.get_by_role("button", name="End the conversation").click()
    dialog = window.get_by_role("alertdialog")
    expect(dialog).to_contain_text(name)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(window.get_by_role("button", name="End the conversation")).to_be_focused()
    window.get_by_role("button", name="End the conversation").click()
    dialog.get_by_role("button", name="End the conversation").click()
    assert visitor.expect("ended")["by"] == "operator"
    tab = recap(page).get_by_role("tab", name="Finished conversations")
    tab.click()
    finished = recap(page).get_by_role("tabpanel", name="Finished conversations")
    expect(finished.get_by_role("button", name=name)).to_be_visible()
    expect(window.get_by_role("textbox", name="Message")).to_be_disabled()
    visitor.say("One more question")
    expect(finished.get_by_role("button", name=name)).to_have_count(0)
    expect(window.get_by_role("log")).to_contain_text("One more question")
    expect(window.get_by_role("textbox", name="Message")).to_be_enabled()
    # the open window saw it: nothing unread
    expect(recap(page).get_by_role("tab", name="Ongoing conversations", exact=True)).to_be_visible()
    page.screenshot(path="/tmp/console-1366x900.png")
    assert axe.violations(page, "#psonlinechat-console") == []
    page.context.close()


def test_unread_counts_and_title(browser, shop):
    page = online_console(browser, shop)
    visitor, name = new_guest(shop, "Hi")
    chat_window(page, name).get_by_role("button", name="Hide").click()
    expect(chat_window(page, name)).to_have_count(0)
    expect(recap(page).get_by_role("button", name=name)).to_be_focused()
    visitor.say("Anyone there?")
    visitor.say("Hello?")
    # a message opens the window again, minimised windows keep their unread count
    window = chat_window(page, name)
    window.get_by_role("button", name="Minimise").click()
    visitor.say("Still there?")
    unread = re.compile(r"^Ongoing conversations Unread messages: 1$")
    expect(recap(page).get_by_role("tab", name=unread)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^\(1\) Dashboard"))
    window.get_by_role("button", name="Minimise").click()
    expect(page).to_have_title(re.compile(r"^Dashboard"))
    page.context.close()


def test_typing_on_is_said_again_while_the_operator_keeps_typing(browser, shop):
    """A visitor who missed the first mark (typing is not logged, and one sent as the
    conversation opens can beat the visitor's socket to it) sees the next one."""
    page = online_console(browser, shop)
    visitor, name = new_guest(shop, "Anyone there?")
    box = chat_window(page, name).get_by_role("textbox", name="Message")
    box.press_sequentially("Yes")
    visitor.expect("typing", author="operator", on=True)
    for _ in range(6):  # keeps typing for about 6 s, never pausing 3 s
        page.wait_for_timeout(1000)
        box.press_sequentially(".")
    visitor.expect("typing", author="operator", on=True)
    page.context.close()


def test_a_signed_in_customer_is_named(browser, shop):
    page = online_console(browser, shop)
    id_customer, cookies = shop.customer(email="named@example.test", firstname="Ann",
                                         lastname="Smith")
    with shop.db.engine.begin() as conn:
        seed.add_address(conn, shop.db.tables, id_customer, phone_mobile="+33 6 12 34 56 78")
    shop.visitor(cookies).say("Where is my order?")
    window = chat_window(page, f"Ann Smith (#{id_customer})")
    expect(window.get_by_role("log")).to_contain_text("Where is my order?")
    expect(window).to_contain_text("named@example.test")  # the guide: email and phone
    expect(window).to_contain_text("+33 6 12 34 56 78")
    page.context.close()


def test_five_visitors_give_four_windows(browser, shop):
    page = online_console(browser, shop)
    names = [guest_name(shop, shop.visitor().say(f"Question {n}")) for n in range(5)]
    for name in names[1:]:
        expect(chat_window(page, name)).to_be_visible()
    expect(chat_window(page, names[0])).to_have_count(0)
    ongoing = recap(page).get_by_role("tabpanel", name="Ongoing conversations")
    expect(ongoing.get_by_role("listitem")).to_have_count(5)
    page.screenshot(path="/tmp/console-five-1366x900.png")
    ongoing.get_by_role("button", name=names[0]).click()
    expect(chat_window(page, names[0]).get_by_role("textbox", name="Message")).to_be_focused()
    expect(chat_window(page, names[1])).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".psoc-window")).to_have_count(1)
    expect(chat_window(page, names[0])).to_be_visible()
    page.screenshot(path="/tmp/console-390x844.png")
    assert axe.violations(page, "#psonlinechat-console") == []
    page.context.close()


def test_open_windows_survive_a_page_change(browser, shop):
    page = online_console(browser, shop)
    first = guest_name(shop, shop.visitor().say("First"))
    second = guest_name(shop, shop.visitor().say("Second"))
    chat_window(page, first).get_by_role("button", name="Minimise").click()
    chat_window(page, second).get_by_role("textbox", name="Message").fill("half a thought")
    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(chat_window(page, first).get_by_role("button", name="Minimise")
           ).to_have_attribute("aria-pressed", "true")
    expect(chat_window(page, second).get_by_role("textbox", name="Message")
           ).to_have_value("half a thought")
    expect(chat_window(page, second).get_by_role("log")).to_contain_text("Second")
    expect(recap(page).get_by_role("switch", name="Online")).to_have_attribute(
        "aria-checked", "true")
    page.context.close()


def test_going_offline_confirms_and_archives(browser, shop):
    page = online_console(browser, shop)
    ended, ended_name = new_guest(shop, "Thanks, bye")
    ongoing = shop.visitor()
    ongoing.say("Still here")
    window = chat_window(page, ended_name)
    window.get_by_role("button", name="End the conversation").click()
    window.get_by_role("alertdialog").get_by_role("button", name="End the conversation").click()
    expect(recap(page).get_by_role("tab", name="Finished conversations")).to_be_visible()
    expect(window.get_by_role("textbox", name="Message")).to_be_disabled()
    switch = recap(page).get_by_role("switch", name="Online")
    switch.click()
    dialog = recap(page).get_by_role("alertdialog")
    expect(dialog).to_contain_text("ongoing conversations (1)")
    assert axe.violations(page, "#psonlinechat-console") == []
    dialog.get_by_role("button", name="Cancel").click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_be_focused()
    switch.click()
    dialog.get_by_role("button", name="Go offline").click()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator(".psoc-window")).to_have_count(0)
    expect(recap(page).get_by_role("listitem")).to_have_count(0)
    assert statuses(shop) == ["archived", "archived"]
    page.context.close()


def test_two_tabs_stay_in_step(browser, shop):
    page, cookies = employee_page(browser, shop)
    other = page.context.new_page()
    other.goto(shop.origin + "/admin/orders")
    go_online(page)
    expect(recap(other).get_by_role("switch", name="Online")).to_have_attribute(
        "aria-checked", "true")
    visitor, name = new_guest(shop, "Two tabs?")
    for tab in (page, other):
        expect(chat_window(tab, name).get_by_role("log")).to_contain_text("Two tabs?")
    box = chat_window(page, name).get_by_role("textbox", name="Message")
    box.fill("Answered from the first tab")
    chat_window(page, name).get_by_role("button", name="Send").click()
    visitor.expect("message", author="operator")
    expect(chat_window(other, name).get_by_role("log")).to_contain_text(
        "Answered from the first tab")
    chat_window(other, name).get_by_role("button", name="End the conversation").click()
    chat_window(other, name).get_by_role("alertdialog").get_by_role(
        "button", name="End the conversation").click()
    expect(chat_window(page, name).get_by_role("textbox", name="Message")).to_be_disabled()
    page.context.close()


class Line:
    """A TCP relay in front of the shop's server that can be cut: the connection a browser
    loses when its network drops, without a close frame."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.up = True
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target))
            self.open += [client, server]
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    @classmethod
    def _relay(cls, client: socket.socket, server: socket.socket) -> None:
        """Both directions until either side ends; then both sockets are closed."""
        back = threading.Thread(target=cls._pump, args=(server, client), daemon=True)
        back.start()
        cls._pump(client, server)
        back.join()
        client.close()
        server.close()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every connection, and refuse new ones until :meth:`mend`."""
        self.up = False
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.open.clear()

    def mend(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()
        time.sleep(0.2)  # the relays see their sockets shut and close them


def test_reconnects_with_nothing_lost(browser, shop):
    line = Line(shop.server.port)
    cookies = shop.employee()
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": n, "value": v, "url": shop.origin} for n, v in cookies])
    page = context.new_page()
    hellos = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: hellos.append(
        json.loads(payload)) if '"hello"' in payload else None))
    page.goto(f"http://127.0.0.1:{line.port}/admin/")
    go_online(page)
    visitor = shop.visitor()
    ack = visitor.say("Are you there?")
    name = guest_name(shop, ack)
    window = chat_window(page, name)
    expect(window.get_by_role("log")).to_contain_text("Are you there?")
    line.cut()
    expect(recap(page).get_by_role("status")).to_contain_text("Reconnecting")
    box = window.get_by_role("textbox", name="Message")
    box.fill("Typed while the line was down")
    box.press("Enter")
    expect(window.get_by_role("log")).to_contain_text("Sending…")
    visitor.say("Sent while the operator was away")
    line.mend()
    answer = visitor.expect("message", author="operator", timeout=40)
    assert answer["body"] == "Typed while the line was down"
    expect(window.get_by_role("log")).to_contain_text("Sent while the operator was away",
                                                     timeout=40_000)
    expect(window.get_by_role("log")).not_to_contain_text("Sending…")
    expect(recap(page).get_by_role("status")).to_contain_text("You are online")
    c = shop.db.tables.message.c
    bodies = [row.body for row in shop.query(sa.select(c.body))]
    assert bodies.count("Typed while the line was down") == 1
    id_conversation = str(ack["conversation"]["id_conversation"])
    assert hellos[0]["last_seqs"] == {} and len(hellos) >= 2
    assert hellos[-1]["last_seqs"] == {id_conversation: ack["seq"]}  # resumed from there
    context.close()
    line.close()


def test_end_and_reopen_are_disabled_while_the_line_is_down(browser, shop):
    line = Line(shop.server.port)
    cookies = shop.employee()
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": n, "value": v, "url": shop.origin} for n, v in cookies])
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{line.port}/admin/")
    go_online(page)
    staying, leaving = shop.visitor(), shop.visitor()
    ongoing = chat_window(page, guest_name(shop, staying.say("Still here")))
    left_name = guest_name(shop, leaving.say("Bye"))
    leaving.send("end")
    assert leaving.expect("ended")["by"] == "customer"
    finished_window = chat_window(page, left_name)
    expect(finished_window).to_contain_text("The customer ended the conversation.")
    recap(page).get_by_role("tab", name="Finished conversations").click()
    finished = recap(page).get_by_role("tabpanel", name="Finished conversations")
    buttons = [ongoing.get_by_role("button", name="End the conversation"),
               finished_window.get_by_role("button", name="Reopen the conversation"),
               finished.get_by_role("button", name="Reopen the conversation")]
    for button in buttons:
        expect(button).to_be_enabled()
        expect(button).not_to_have_accessible_description(re.compile("Reconnecting"))
    line.cut()
    expect(recap(page).get_by_role("status")).to_contain_text("Reconnecting")
    for button in buttons:
        expect(button).to_be_disabled()
        # the reason, for assistive technology: the connection status
        expect(button).to_have_accessible_description(re.compile("Reconnecting"))
    line.mend()
    expect(recap(page).get_by_role("status")).to_contain_text("You are online", timeout=40_000)
    for button in buttons:
        expect(button).to_be_enabled()
        expect(button).not_to_have_accessible_description(re.compile("Reconnecting"))
    buttons[2].click()
    assert leaving.expect("reopened", timeout=20)["by"] == "operator"
    buttons[0].click()
    ongoing.get_by_role("alertdialog").get_by_role("button", name="End the conversation").click()
    assert staying.expect("ended", timeout=20)["by"] == "operator"
    context.close()
    line.close()


SPIES = """
window.__tones = 0; window.__asked = 0;
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1;
  return make.call(this); };
class FakeNotification { static permission = 'default';
  static requestPermission() { window.__asked += 1; FakeNotification.permission = 'granted';
    return Promise.resolve('granted'); } }
window.Notification = FakeNotification;
"""


@pytest.mark.parametrize("sounds", [True, False])
def test_sounds_follow_the_setting_and_wait_for_a_gesture(browser, shop, sounds):
    shop.settings(sounds=sounds)
    try:
        page, _ = employee_page(browser, shop, script=SPIES)
        go_online(page)  # a click: the page may play sounds from now on
        shop.visitor().say("Ding?")
        expect(page.locator("[aria-live=polite]")).to_have_text(re.compile(r"New conversation: "))
        page.wait_for_timeout(300)
        assert page.evaluate("window.__tones") == (2 if sounds else 0)
        assert page.evaluate("window.__asked") == 0  # never asked on load
        notify = recap(page).get_by_role("button", name="Turn on desktop notifications")
        notify.click()
        expect(notify).to_be_hidden()
        assert page.evaluate("window.__asked") == 1
        page.context.close()
    finally:
        shop.settings(sounds=True)


def test_no_sound_before_a_gesture(browser, shop):
    page, _ = employee_page(browser, shop, script=SPIES)
    shop.operator()  # another employee puts the shop online; this one never touched the page
    shop.visitor().say("Silent?")
    expect(page.locator(".psoc-window")).to_have_count(1)
    assert page.evaluate("window.__tones") == 0
    page.context.close()


def test_the_operator_reopens_a_finished_conversation(browser, shop):
    page = online_console(browser, shop)
    visitor, name = new_guest(shop, "Bye")
    visitor.send("end")
    assert visitor.expect("ended")["by"] == "customer"
    window = chat_window(page, name)
    expect(window).to_contain_text("The customer ended the conversation.")
    recap(page).get_by_role("tab", name="Finished conversations").click()
    finished = recap(page).get_by_role("tabpanel", name="Finished conversations")
    finished.get_by_role("button", name="Reopen the conversation").click()
    assert visitor.expect("reopened")["by"] == "operator"
    expect(window.get_by_role("textbox", name="Message")).to_be_enabled()
    expect(finished.get_by_role("listitem")).to_have_count(0)
    page.context.close()


def test_keyboard_only(browser, shop):
    page, _ = employee_page(browser, shop)
    switch = recap(page).get_by_role("switch", name="Online")
    expect(switch).to_be_enabled()
    switch.focus()
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-checked", "true")
    visitor, name = new_guest(shop, "Keyboard?")
    expect(chat_window(page, name)).to_be_visible()
    ongoing_tab = recap(page).get_by_role("tab", name="Ongoing conversations")
    ongoing_tab.focus()
    page.keyboard.press("ArrowRight")
    expect(recap(page).get_by_role("tab", name="Finished conversations")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(ongoing_tab).to_be_focused()
    page.keyboard.press("Tab")
    expect(recap(page).get_by_role("button", name=name)).to_be_focused()
    page.keyboard.press("Enter")
    box = chat_window(page, name).get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    page.keyboard.type("By keyboard")
    page.keyboard.press("Enter")
    assert visitor.expect("message", author="operator")["body"] == "By keyboard"
    window = chat_window(page, name)
    window.get_by_role("button", name="End the conversation").focus()
    page.keyboard.press("Enter")
    dialog = window.get_by_role("alertdialog")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    assert axe.violations(page, "#psonlinechat-console") == []
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(window.get_by_role("button", name="End the conversation")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="End the conversation")).to_be_focused()
    page.keyboard.press("Enter")
    assert visitor.expect("ended")["by"] == "operator"
    window.get_by_role("log").focus()
    page.keyboard.press("Escape")
    expect(chat_window(page, name)).to_have_count(0)
    expect(recap(page).get_by_role("button", name=name)).to_be_focused()
    page.context.close()


def test_in_the_employees_language(browser, shop):
    cookies = shop.employee(email="fr-bo@example.test", id_lang=shop.db.ids["fr"])
    page, _ = employee_page(browser, shop, cookies)
    region = page.get_by_role("region", name="Chat en ligne")
    switch = region.get_by_role("switch", name="En ligne")
    expect(switch).to_be_enabled()
    switch.click()
    expect(region.get_by_role("tab", name="Conversations en cours")).to_be_visible()
    name = guest_name(shop, shop.visitor().say("Bonjour"))
    window = page.get_by_role("region", name=name.replace("Guest #", "Invité n°"))
    expect(window.get_by_role("button", name="Terminer la conversation")).to_be_visible()
    expect(window.get_by_role("textbox", name="Message")).to_be_visible()
    page.context.close()
