"""The storefront chat widget for everyone, in a real headless Chromium: French texts on
the French storefront, keyboard only, axe-core (no violation), a phone's screen and 320 px
reflow, 24 px targets, and markup in messages and merchant texts shown as text.

Controls are found by role and accessible name, in the visitor's language (issue 9's
accessibility contract, docs/widget.md); the widget's strings come from its catalogue.
Screenshots go to /tmp (psonlinechat-widget-*.png) for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.axe import violations
from tests.support.widgetpage import (
    HEADER,
    OPERATOR,
    Traffic,
    asset_urls,
    button,
    chat_ready,
    dialog,
    first_message,
    focus_inside,
    focus_ring,
    focused_is,
    launcher,
    message_box,
    open_chat,
    say,
    send,
    shadow_query,
    tab_to,
    target_sizes,
    visit,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_the_french_storefront_speaks_french(storefront, open_page):
    assert say("Send", "fr") == "Envoyer"  # the French catalogue is there
    header = "Une question ? Parlez à Anne"
    storefront.settings(operator_name=OPERATOR)
    storefront.texts("fr", header_text=header, welcome_text="Bonjour ! Que cherchez-vous ?")
    operator = storefront.operator()
    page = open_page(cookie=storefront.visitor_cookie("fr"), locale="fr-FR")
    visit(page, storefront.page_url)
    french_launcher = page.get_by_role("button", name=say("Chat with us", "fr"), exact=True)
    expect(french_launcher).to_be_visible()
    french_launcher.click()
    panel = dialog(page, header)
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Bonjour ! Que cherchez-vous ?")
    box = message_box(panel, "fr")
    box.fill("Livrez-vous à Lyon ?")
    expect(button(panel, "End the conversation", "fr")).to_be_attached()
    panel.get_by_role("button", name="Envoyer", exact=True).click()
    id_conversation = first_message(operator, "Livrez-vous à Lyon ?")
    operator.say("Oui, en deux jours.", id_conversation=id_conversation)
    expect(panel.get_by_role("log")).to_contain_text("Oui, en deux jours.")
    operator.send("typing", id_conversation=id_conversation, on=True)
    typing = say("{name} is typing…", "fr").format(name=OPERATOR)
    expect(panel.get_by_text(typing, exact=True)).to_be_visible()


def test_keyboard_only(storefront, open_page):
    storefront.texts(header_text=HEADER)
    operator = storefront.operator()
    page = open_page()
    visit(page, storefront.page_url)
    the_launcher = launcher(page)
    page.locator("body").focus()
    traffic = Traffic(page)
    tab_to(page, the_launcher)  # past the shop's own links; the focus is intent
    wanted = asset_urls(page)
    wait_until(page, lambda: wanted <= set(traffic.requests), what="the widget's assets")
    ring = focus_ring(page)
    assert ring is not None and ring[1], "the launcher shows no focus ring"
    assert the_launcher.evaluate("el => el.matches(':focus-visible')")

    page.keyboard.press("Enter")
    panel = dialog(page, HEADER)
    expect(panel).to_be_visible()
    wait_until(page, lambda: focus_inside(panel), what="focus inside the dialog")
    unringed = tab_to(page, message_box(panel))
    page.keyboard.type("Typed with the keyboard")
    unringed += tab_to(page, button(panel, "Send"))
    page.keyboard.press("Enter")
    first_message(operator, "Typed with the keyboard")
    unringed += tab_to(page, button(panel, "End the conversation"))
    unringed += tab_to(page, panel.get_by_role("button", name=say("Close"), exact=True))
    assert focus_inside(panel)
    assert unringed == []  # every control of the panel shows where the focus is

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    wait_until(page, lambda: focused_is(page, the_launcher), what="focus back on the launcher")
    page.keyboard.press("Enter")
    expect(panel.get_by_role("log")).to_contain_text("Typed with the keyboard")


def test_axe_finds_no_violation_in_the_launcher_and_the_open_chat(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "Checking the colours")
    id_conversation = first_message(operator, "Checking the colours")
    operator.say("They pass, we hope.", id_conversation=id_conversation)
    expect(panel.get_by_role("log")).to_contain_text("They pass, we hope.")
    assert violations(page, "psonlinechat-widget") == []
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert violations(page, "psonlinechat-widget") == []



def test_on_a_phone_one_tap_opens_a_panel_filling_the_screen(storefront, open_page):
    storefront.texts(header_text=HEADER)
    storefront.operator()
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                     device_scale_factor=3)
    visit(page, storefront.page_url)
    launcher(page).tap()  # the intent and the opening in one tap
    panel = dialog(page, HEADER)
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None
    assert (round(box["x"]), round(box["y"])) == (0, 0)
    assert (round(box["width"]), round(box["height"])) == (390, 844)
    # focus moves in, to the dialog itself: on the field, the keyboard would cover half of it
    assert focused_is(page, panel)
    font = message_box(panel).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert font >= 16  # smaller makes phones zoom in on focus
    small = [t for t in target_sizes(page) if t[1] < 24 or t[2] < 24]
    assert small == []
    page.screenshot(path="/tmp/psonlinechat-widget-390x844.png")


def test_the_panel_reflows_at_320_pixels(storefront, open_page):
    _, page, panel = chat_ready(storefront, open_page, viewport={"width": 320, "height": 640})
    send(panel, "A long word: " + "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2)
    expect(panel.get_by_role("log")).to_contain_text("Pneumono")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    assert panel.evaluate("el => el.scrollWidth <= el.clientWidth")
    right = panel.evaluate("el => el.getBoundingClientRect().right")
    assert right <= 320


def test_a_desktop_screenshot_and_the_targets(storefront, open_page):
    operator, page, panel = chat_ready(storefront, open_page)
    send(panel, "How big is the blue mug?")
    id_conversation = first_message(operator, "How big is the blue mug?")
    operator.say("It holds 350 ml.", id_conversation=id_conversation)
    expect(panel.get_by_role("log")).to_contain_text("It holds 350 ml.")
    small = [t for t in target_sizes(page) if t[1] < 24 or t[2] < 24]
    assert small == []
    page.screenshot(path="/tmp/psonlinechat-widget-1366x900.png")


# ---------------------------------------------------------------------------
# Hostile input
# ---------------------------------------------------------------------------

HOSTILE = ('<img class=pwn src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
           '<b class=pwn>bold</b>')


def test_markup_in_messages_and_merchant_texts_shows_as_text(storefront, open_page):
    header = '<i class=pwn>Ask</i> & "talk" <img src=x onerror="window.__pwned=3">'
    welcome = "<script>window.__pwned=4</script>Welcome <u class=pwn>here</u>"
    storefront.texts(header_text=header, welcome_text=welcome)
    operator = storefront.operator()
    page = open_page()
    visit(page, storefront.page_url)
    panel = open_chat(page, header=header)
    expect(panel).to_contain_text(welcome)
    send(panel, HOSTILE)
    id_conversation = first_message(operator, HOSTILE)
    operator.say(HOSTILE.replace("bold", "from the operator"), id_conversation=id_conversation)
    log = panel.get_by_role("log")
    expect(log).to_contain_text(HOSTILE)
    expect(log).to_contain_text(HOSTILE.replace("bold", "from the operator"))
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    for selector in (".pwn", "img[src=x]", "[onerror]"):
        assert shadow_query(page, selector) == 0, selector



def test_no_animation_for_a_visitor_who_asks_for_reduced_motion(storefront, open_page):
    _, page, panel = chat_ready(storefront, open_page, reduced_motion="reduce")
    running = panel.evaluate("el => el.getRootNode().getAnimations().length")
    assert running == 0
