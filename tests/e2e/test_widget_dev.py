"""The widget's own browser checks beyond the shared role/name tests: a visitor whose
conversation took the last place keeps it from page to page, though the shop now shows no
launcher to anyone else (offline mode off); and what the widget keeps in the tab."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.widgetpage import (
    HEADER,
    Traffic,
    chat_ready,
    dialog,
    first_message,
    launcher,
    message_box,
    send,
    visit,
)

pytestmark = pytest.mark.slow


def test_a_conversation_in_progress_survives_pages_that_show_no_launcher(storefront,
                                                                         open_page):
    storefront.settings(max_chats=1, offline_mode=False)
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "I took the last place")
    id_conversation = first_message(operator, "I took the last place")

    stranger = open_page()
    visit(stranger, storefront.page_url, availability=None)  # full: no launcher for others
    expect(launcher(stranger)).to_have_count(0)

    traffic = Traffic(page)
    page.goto(storefront.relay.url + "/product/2")
    panel = dialog(page, HEADER)
    expect(panel).to_be_visible()  # it was open: it opens again, with the conversation
    expect(panel.get_by_role("log")).to_contain_text("I took the last place")
    assert any("/psonlinechat/hook/displayFooter" in url for url in traffic.requests)
    operator.say("Still here for you", id_conversation=id_conversation)
    expect(panel.get_by_role("log")).to_contain_text("Still here for you")
    send(panel, "Thanks!")
    assert operator.expect("message", timeout=10, body="Thanks!")["id_conversation"] == (
        id_conversation)


def test_the_tab_keeps_the_token_and_the_last_seq_but_no_cookie(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "Remember me")
    id_conversation = first_message(operator, "Remember me")
    operator.say("Noted", id_conversation=id_conversation)
    expect(panel.get_by_role("log")).to_contain_text("Noted")
    kept = page.evaluate("""() => {
        const state = JSON.parse(document.getElementById('psonlinechat-state').textContent);
        return JSON.parse(sessionStorage.getItem(state.storage_key));
    }""")
    assert kept["t"] and kept["q"] == 2 and kept["p"] == []
    assert kept["n"]["id_conversation"] == id_conversation
    assert page.evaluate("() => localStorage.length") == 0
    assert page.context.cookies() == []  # the tab's storage only: nothing the shop would see


def test_an_answer_while_the_panel_is_closed_shows_on_the_launcher(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "I will look around meanwhile")
    id_conversation = first_message(operator, "I will look around meanwhile")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    operator.say("Found it for you", id_conversation=id_conversation)
    operator.say("Here is the link", id_conversation=id_conversation)
    expect(launcher(page)).to_have_accessible_name(re.compile(r"Chat.*New messages: 2"))
    launcher(page).click()
    expect(panel.get_by_role("log")).to_contain_text("Here is the link")
    expect(launcher(page)).not_to_have_accessible_name(re.compile("New messages"))
    assert operator.expect("seen", timeout=10, by="customer")["seq"] == 3


def test_the_panel_follows_the_shop_live_between_chat_and_offline_form(storefront, open_page):
    offline_header = "Leave a note"
    storefront.texts(offline_header_text=offline_header)
    operator, page, panel = chat_ready(storefront, open_page)
    expect(message_box(panel)).to_be_visible()

    operator.send("status", online=False)  # the last operator leaves: the form, at once
    form = dialog(page, offline_header)
    expect(form).to_be_visible()
    expect(form.get_by_role("textbox", name="Email")).to_have_attribute("required", "")
    expect(form.get_by_role("textbox", name="Phone")).to_have_count(0)  # not asked for
    form.get_by_role("textbox", name="Message").fill("Half written")

    operator.send("status", online=True)  # back: the chat again, the form kept for later
    expect(dialog(page, HEADER)).to_be_visible()
    expect(message_box(dialog(page, HEADER))).to_be_visible()
    assert page.evaluate("""() => document.querySelector('psonlinechat-widget').shadowRoot
        .querySelector('textarea[name=message]').value""") == "Half written"
