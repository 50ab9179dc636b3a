"""The storefront chat widget in a real headless Chromium, against a real server, a real
MariaDB shop and operators on real sockets, as a visitor uses it.

Every control is found by role and accessible name, in the visitor's language, exactly as
issue 9's accessibility contract names them (docs/widget.md): the launcher (a ``button``
whose name contains "Chat"), the panel (a ``dialog`` labelled by the merchant's header
text), the messages (``role="log"``), the ``textbox`` "Message", the ``button`` "Send" and
the ``button`` "End the conversation". The widget's strings come from its catalogue.

Open and close, nothing before intent, chat both ways, reload, a cut connection, end.
The storefront is a small page of a host app wrapped by the module's FragmentInjector,
reached through a relay the tests can cut (tests/support/widgetshop.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.widgetpage import (
    HEADER,
    OPERATOR,
    WELCOME,
    Traffic,
    asset_urls,
    backgrounds,
    button,
    chat_ready,
    dialog,
    first_message,
    focus_inside,
    focused_is,
    launcher,
    message_box,
    rgb,
    say,
    send,
    stored_bodies,
    visit,
    wait_until,
)

pytestmark = pytest.mark.slow

# ---------------------------------------------------------------------------
# Before intent, opening and closing
# ---------------------------------------------------------------------------

def test_nothing_loads_and_nothing_is_written_before_intent(storefront, open_page):
    storefront.operator()
    page = open_page()
    visit(page, storefront.page_url)
    traffic = Traffic(page)
    page.goto(storefront.page_url)
    page.wait_for_load_state("networkidle")
    expect(launcher(page)).to_be_visible()
    page.wait_for_timeout(800)  # time for a timer, an idle callback, a prefetch
    assert traffic.requests == [storefront.page_url]
    assert traffic.sockets == []
    assert page.context.cookies() == []
    assert page.evaluate("() => [document.cookie, sessionStorage.length, localStorage.length]"
                         ) == ["", 0, 0]

    launcher(page).hover()
    wanted = asset_urls(page)
    wait_until(page, lambda: wanted <= set(traffic.requests), what="widget.js and widget.css")
    page.wait_for_timeout(500)
    assert set(traffic.requests[1:]) == wanted  # the two assets, nothing else
    assert traffic.sockets == []  # the socket waits for the panel
    assert page.context.cookies() == []


def test_the_launcher_opens_a_labelled_dialog_and_escape_gives_focus_back(storefront,
                                                                           open_page):
    _, page, panel = chat_ready(storefront, open_page)
    expect(panel).not_to_have_attribute("aria-modal", "true")  # non-modal
    expect(panel).to_contain_text(WELCOME)
    wait_until(page, lambda: focus_inside(panel), what="focus inside the dialog")
    expect(panel.get_by_role("log")).to_be_attached()
    expect(message_box(panel)).to_be_editable()
    expect(button(panel, "Send")).to_be_visible()

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    wait_until(page, lambda: focused_is(page, launcher(page)), what="focus on the launcher")


# ---------------------------------------------------------------------------
# Chatting with an operator on a real socket
# ---------------------------------------------------------------------------

def test_chat_both_ways_with_typing_and_seen(storefront, open_page):
    storefront.settings(customer_background="#7a1f5c", operator_background="#e0f0d8")
    operator, page, panel = chat_ready(storefront, open_page)
    box = message_box(panel)
    box.fill("Do you ship to Lyon?")
    button(panel, "Send").click()
    id_conversation = first_message(operator, "Do you ship to Lyon?")
    expect(box).to_have_value("")
    log = panel.get_by_role("log")
    mine = log.get_by_text("Do you ship to Lyon?", exact=True)
    expect(mine).to_be_visible()
    assert rgb("#7a1f5c") in backgrounds(mine, log)  # the merchant's customer bubble
    welcome = panel.get_by_text(WELCOME, exact=True).bounding_box()
    assert welcome is not None and welcome["y"] < mine.bounding_box()["y"]  # welcome first
    box.press_sequentially("And to Lille")  # typing (once there is a conversation)
    typing = operator.expect("typing", timeout=10)
    assert (typing["id_conversation"], typing["author"], typing["on"]) == (
        id_conversation, "customer", True)

    operator.send("typing", id_conversation=id_conversation, on=True)
    indicator = say("{name} is typing…").format(name=OPERATOR)
    expect(panel.get_by_text(indicator, exact=True)).to_be_visible()
    operator.say("Yes, in two days.", id_conversation=id_conversation)
    answer = log.get_by_text("Yes, in two days.", exact=True)
    expect(answer).to_be_visible()
    expect(log).to_contain_text(OPERATOR)  # the operator's name under their message
    assert rgb("#e0f0d8") in backgrounds(answer, log)
    # the panel is open: the visitor has seen the answer (seq 2)
    assert operator.expect("seen", timeout=10, by="customer")["seq"] == 2

    operator.send("seen", id_conversation=id_conversation, seq=1)
    expect(panel.get_by_text(say("Seen"), exact=True)).to_be_visible()
    assert stored_bodies(storefront, id_conversation) == ["Do you ship to Lyon?",
                                                          "Yes, in two days."]


def test_a_reload_mid_conversation_continues_it(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "Before the reload")
    id_conversation = first_message(operator, "Before the reload")
    operator.say("Answer before the reload", id_conversation=id_conversation)
    expect(panel.get_by_role("log")).to_contain_text("Answer before the reload")

    page.reload()
    panel = dialog(page, HEADER)
    if not panel.is_visible():
        launcher(page).click()
    log = panel.get_by_role("log")
    expect(log.get_by_text("Before the reload", exact=True)).to_have_count(1)
    expect(log.get_by_text("Answer before the reload", exact=True)).to_have_count(1)
    send(panel, "After the reload")
    message = operator.expect("message", timeout=10, body="After the reload")
    assert message["id_conversation"] == id_conversation
    operator.say("Answer after the reload", id_conversation=id_conversation)
    expect(log.get_by_text("Answer after the reload", exact=True)).to_be_visible()
    assert stored_bodies(storefront, id_conversation) == [
        "Before the reload", "Answer before the reload", "After the reload",
        "Answer after the reload"]


def test_reconnecting_backs_off(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "Still there?")
    id_conversation = first_message(operator, "Still there?")
    storefront.relay.refused.clear()
    storefront.relay.cut()
    page.wait_for_timeout(10_000)
    tries = list(storefront.relay.refused)
    storefront.relay.restore()
    gaps = [later - earlier for earlier, later in zip(tries, tries[1:], strict=False)]
    assert 3 <= len(tries) <= 8, gaps  # it tries again, and does not hammer the shop
    assert gaps[-1] > 1.5 * gaps[0], gaps  # waiting longer each time
    operator.say("Back again", id_conversation=id_conversation)
    expect(panel.get_by_role("log").get_by_text("Back again", exact=True)).to_be_visible(
        timeout=30_000)


@pytest.mark.parametrize("outage", ["network cut", "browser offline"])
def test_a_message_typed_while_the_connection_is_down_is_delivered_once(storefront, open_page,
                                                                        outage):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "First, online")
    id_conversation = first_message(operator, "First, online")

    traffic = Traffic(page)
    down, up = ((storefront.relay.cut, storefront.relay.restore) if outage == "network cut"
                else (lambda: page.context.set_offline(True),
                      lambda: page.context.set_offline(False)))
    down()
    page.wait_for_timeout(1000)
    send(panel, "Typed while offline")
    expect(panel.get_by_role("log").get_by_text("Typed while offline", exact=True)
           ).to_be_visible()
    page.wait_for_timeout(1500)
    up()

    message = operator.expect("message", timeout=30, body="Typed while offline")
    assert message["id_conversation"] == id_conversation
    send(panel, "Then, online again")  # after it on the same socket: nothing in between
    operator.expect("message", timeout=15, body="Then, online again")
    bodies = [e["body"] for e in operator.received if e.get("type") == "message"]
    assert bodies.count("Typed while offline") == 1
    assert stored_bodies(storefront, id_conversation) == [
        "First, online", "Typed while offline", "Then, online again"]
    expect(panel.get_by_role("log").get_by_text("Typed while offline", exact=True)).to_have_count(1)
    if outage == "network cut":  # its socket was closed under it: it made a new one
        assert traffic.sockets, "the widget never opened a new socket"


def test_a_message_whose_ack_was_lost_is_sent_again_and_stored_once(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "Hello")
    id_conversation = first_message(operator, "Hello")

    traffic = Traffic(page)
    storefront.relay.hold()  # the server's answers stop reaching the browser
    send(panel, "Did you get this?")
    operator.expect("message", timeout=10, body="Did you get this?")  # stored; no ack seen
    storefront.relay.cut()
    page.wait_for_timeout(500)
    storefront.relay.restore()

    wait_until(page, lambda: storefront.relay.connections > 0, timeout=30,
               what="the widget to reconnect")
    send(panel, "And this?")
    operator.expect("message", timeout=15, body="And this?")
    bodies = [e["body"] for e in operator.received if e.get("type") == "message"]
    assert bodies.count("Did you get this?") == 1
    assert stored_bodies(storefront, id_conversation) == ["Hello", "Did you get this?",
                                                          "And this?"]
    expect(panel.get_by_role("log").get_by_text("Did you get this?", exact=True)).to_have_count(1)
    assert traffic.sockets, "the widget never opened a new socket"


def test_the_visitor_ends_and_a_new_conversation_follows_an_archive(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    other = storefront.operator(storefront.employee("olga@example.test"))
    send(panel, "That is all, thanks")
    first = first_message(operator, "That is all, thanks")

    button(panel, "End the conversation").click()
    ended = operator.expect("ended", timeout=10, id_conversation=first)
    assert ended["by"] == "customer"

    other.send("status", online=False)  # an operator leaving archives finished conversations
    operator.expect("archived", timeout=10, id_conversation=first)
    page.wait_for_timeout(500)
    if not panel.is_visible():
        launcher(page).click()
    send(panel, "A new question")
    second = first_message(operator, "A new question")
    assert second != first
    expect(panel.get_by_role("log").get_by_text("A new question", exact=True)).to_be_visible()


