"""The widget's offline form in a real headless Chromium: no operator online, offline mode
on; its mail reaches a real SMTP server (aiosmtpd).

By issue 9's contract: a ``dialog`` labelled by the merchant's offline header text; the
fields the merchant asked for, labelled "First name", "Last name", "Email", "Phone",
"Message" (in the visitor's language), required ones ``required``; the ``button`` "Send";
errors tied to their fields (``aria-describedby``); the confirmation in ``role="status"``.
With offline mode off and nobody online there is no launcher at all.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.axe import violations
from tests.support.smtp import SmtpServer
from tests.support.widgetpage import (
    Traffic,
    button,
    dialog,
    focused_is,
    launcher,
    say,
    shadow_query,
    tab_to,
    target_sizes,
    visit,
    wait_until,
)
from tests.support.widgetshop import NOTIFY

pytestmark = pytest.mark.slow

OFFLINE_HEADER = "Leave Ann's shop a message"
OFFLINE_WELCOME = "We are away; we answer by email within a day."
LABELS = {"firstname": "First name", "lastname": "Last name", "email": "Email",
          "phone": "Phone", "message": "Message"}
#: The form of most tests: first name required, last name hidden, phone requested.
FIELDS = {"firstname": "required", "lastname": "hidden", "email": "required",
          "phone": "requested", "message": "required"}
ANY_TEXT = re.compile(r"\S")


@pytest.fixture
def smtp(storefront):
    """A real SMTP server the shop mails to."""
    with SmtpServer() as server:
        storefront.mail_to(server.port)
        yield server


def field(scope, name: str, lang: str = "en"):
    return scope.get_by_role("textbox", name=say(LABELS[name], lang), exact=True)


def open_form(shop, page, *, header: str = OFFLINE_HEADER, lang: str = "en"):
    """The storefront, no operator online: open the launcher; the offline form's dialog."""
    visit(page, shop.page_url, "offline_form")
    launcher(page, lang).click()
    form = dialog(page, header)
    expect(form).to_be_visible()
    return form


def offline_shop(shop, **fields: str) -> None:
    shop.texts(offline_header_text=OFFLINE_HEADER, offline_welcome_text=OFFLINE_WELCOME)
    shop.settings(offline_fields={**FIELDS, **fields})


def mail_text(server, count: int = 1) -> str:
    """The text part of the last mail, once ``count`` have arrived."""
    wait_until_mail(server, count)
    (message,) = server.messages[-1:]
    return message.get_body(("plain",)).get_content()


def wait_until_mail(server, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(server.messages) < count:
        assert time.monotonic() < deadline, f"{len(server.messages)} mails, not {count}"
        time.sleep(0.05)


def test_the_form_asks_what_the_merchant_set_checks_it_and_mails_it(storefront, smtp,
                                                                    open_page):
    offline_shop(storefront)
    page = open_page()
    form = open_form(storefront, page)
    expect(form).to_contain_text(OFFLINE_WELCOME)
    expect(field(form, "lastname")).to_have_count(0)  # hidden by the merchant
    for name in ("firstname", "email", "message"):
        expect(field(form, name)).to_have_attribute("required", "")
    expect(field(form, "phone")).to_be_visible()
    expect(field(form, "phone")).not_to_have_attribute("required", re.compile(".*"))

    button(form, "Send").click()
    for name in ("firstname", "email", "message"):  # each error tied to its field
        expect(field(form, name)).to_have_accessible_description(ANY_TEXT)
    expect(field(form, "phone")).to_have_accessible_description("")
    assert storefront.rows("offline_message") == []

    field(form, "firstname").fill("Ann")
    field(form, "email").fill("not-an-address")
    field(form, "phone").fill("call me maybe")
    field(form, "message").fill("Is the red mug back in stock?")
    button(form, "Send").click()
    expect(field(form, "email")).to_have_accessible_description(ANY_TEXT)
    expect(field(form, "phone")).to_have_accessible_description(ANY_TEXT)
    expect(field(form, "firstname")).to_have_accessible_description("")
    assert storefront.rows("offline_message") == []

    field(form, "email").fill("ann@example.test")
    field(form, "phone").fill("+33 1 23 45 67 89")
    button(form, "Send").click()
    expect(page.get_by_role("status").filter(has_text=ANY_TEXT)).to_be_visible()
    text = mail_text(smtp)
    for value in ("Ann", "ann@example.test", "+33 1 23 45 67 89",
                  "Is the red mug back in stock?"):
        assert value in text
    (mail,) = smtp.messages
    assert mail["To"] == NOTIFY and mail["Reply-To"] == "ann@example.test"
    (stored,) = storefront.rows("offline_message")
    assert (stored.firstname, stored.email, stored.phone) == ("Ann", "ann@example.test",
                                                              "+33 1 23 45 67 89")
    assert stored.page_url == storefront.page_url


def test_a_signed_in_customers_name_and_email_are_filled_in(storefront, smtp, open_page):
    offline_shop(storefront, lastname="requested")
    id_customer = storefront.new_customer("kim@example.test", firstname="Kim",
                                          lastname="Known")
    page = open_page(cookie=storefront.visitor_cookie("en", id_customer))
    form = open_form(storefront, page)
    expect(field(form, "firstname")).to_have_value("Kim")
    expect(field(form, "lastname")).to_have_value("Known")
    expect(field(form, "email")).to_have_value("kim@example.test")
    field(form, "message").fill("Please call me back.")
    button(form, "Send").click()
    expect(page.get_by_role("status").filter(has_text=ANY_TEXT)).to_be_visible()
    assert "Please call me back." in mail_text(smtp)
    assert smtp.messages[0]["Reply-To"] == "kim@example.test"
    (stored,) = storefront.rows("offline_message")
    assert stored.id_customer == id_customer


def test_no_launcher_when_offline_mode_is_off_and_nobody_is_online(storefront, open_page):
    storefront.settings(offline_mode=False)
    page = open_page()
    visit(page, storefront.page_url, None)
    traffic = Traffic(page)
    page.goto(storefront.page_url)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Product 1")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(0)
    assert page.locator("psonlinechat-widget").count() == 0
    page.wait_for_timeout(500)
    assert traffic.requests == [storefront.page_url] and traffic.sockets == []


def test_the_form_when_every_place_is_taken(storefront, open_page):
    offline_shop(storefront)
    storefront.settings(max_chats=1)
    storefront.operator()
    ack = storefront.visitor().say("I take the only place")
    assert ack["type"] == "ack"
    page = open_page()
    form = open_form(storefront, page)
    expect(field(form, "message")).to_be_visible()
    expect(page.get_by_role("textbox", name=say("Message"))).to_have_count(1)  # no chat box


def test_axe_finds_no_violation_in_the_form_empty_and_with_errors(storefront, open_page):
    offline_shop(storefront, lastname="requested")
    page = open_page()
    form = open_form(storefront, page)
    assert violations(page, "psonlinechat-widget") == []
    button(form, "Send").click()
    expect(field(form, "email")).to_have_accessible_description(ANY_TEXT)
    assert violations(page, "psonlinechat-widget") == []


def test_the_french_form(storefront, open_page):
    header = "Laissez un message à Anne"
    storefront.texts("fr", offline_header_text=header)
    storefront.settings(offline_fields=FIELDS)
    page = open_page(cookie=storefront.visitor_cookie("fr"), locale="fr-FR")
    form = open_form(storefront, page, header=header, lang="fr")
    for name in ("firstname", "email", "phone", "message"):
        expect(field(form, name, "fr")).to_be_visible()
    assert say("First name", "fr") != "First name"  # the catalogue has it
    expect(button(form, "Send", "fr")).to_have_text("Envoyer")
    field(form, "email", "fr").fill("pas-une-adresse")
    button(form, "Send", "fr").click()  # the errors in French too
    required = say("Please fill in this field.", "fr")
    assert required != "Please fill in this field."
    expect(field(form, "firstname", "fr")).to_have_accessible_description(required)
    expect(field(form, "email", "fr")).to_have_accessible_description(
        say("Please enter a valid email address.", "fr"))


def test_the_form_from_the_keyboard(storefront, smtp, open_page):
    offline_shop(storefront)
    page = open_page()
    visit(page, storefront.page_url, "offline_form")
    page.locator("body").focus()
    tab_to(page, launcher(page))
    page.keyboard.press("Enter")
    form = dialog(page, OFFLINE_HEADER)
    expect(form).to_be_visible()
    unringed = []
    for name, value in (("firstname", "Kay"), ("email", "kay@example.test"),
                        ("message", "Typed, never clicked.")):
        unringed += tab_to(page, field(form, name))
        page.keyboard.type(value)
    unringed += tab_to(page, button(form, "Send"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text=ANY_TEXT)).to_be_visible()
    assert "Typed, never clicked." in mail_text(smtp)
    assert unringed == []
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    wait_until(page, lambda: focused_is(page, launcher(page)), what="focus on the launcher")


def test_on_a_phone_the_form_fills_the_screen_with_16px_fields(storefront, open_page):
    offline_shop(storefront, lastname="requested")
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    form = open_form(storefront, page)
    box = form.bounding_box()
    assert box is not None and (round(box["width"]), round(box["height"])) == (390, 844)
    for name in ("firstname", "lastname", "email", "phone", "message"):
        size = field(form, name).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
        assert size >= 16, name
    assert [t for t in target_sizes(page) if t[1] < 24 or t[2] < 24] == []
    # the dialog takes the focus, not a field: the on-screen keyboard stays down
    assert focused_is(page, form)
    page.screenshot(path="/tmp/psonlinechat-offline-390x844.png")
    button(form, "Send").click()
    expect(field(form, "email")).to_have_accessible_description(ANY_TEXT)
    page.screenshot(path="/tmp/psonlinechat-offline-errors-390x844.png")


def test_with_errors_the_form_scrolls_and_send_stays_in_the_panel(storefront, open_page):
    offline_shop(storefront, lastname="requested", phone="required")
    page = open_page()
    form = open_form(storefront, page)
    button(form, "Send").click()
    expect(field(form, "email")).to_have_accessible_description(ANY_TEXT)
    body = form.locator(".form")
    # the errors make the form taller than the panel: its body scrolls inside it
    assert body.evaluate("el => el.scrollHeight > el.clientHeight + 40")
    panel = form.bounding_box()
    for top in (0, "max"):
        body.evaluate("(el, top) => { el.scrollTop = top === 'max' ? el.scrollHeight : 0; }", top)
        send = button(form, "Send").bounding_box()
        assert send is not None and panel is not None
        assert panel["y"] <= send["y"]
        assert send["y"] + send["height"] <= panel["y"] + panel["height"]
        # and nothing covers it: a click at its centre reaches it
        assert button(form, "Send").evaluate("""el => { const r = el.getBoundingClientRect();
            const x = r.x + r.width / 2, y = r.y + r.height / 2;
            return el.getRootNode().elementFromPoint(x, y) === el; }""")


def test_the_honeypot_is_out_of_sight_reach_and_every_hit_target(storefront, open_page):
    offline_shop(storefront, lastname="requested")
    page = open_page()
    form = open_form(storefront, page)
    trap = form.locator("input[name=website]")
    expect(trap).to_have_attribute("tabindex", "-1")
    expect(trap).to_have_attribute("autocomplete", "off")
    assert trap.evaluate("el => !!el.closest('[aria-hidden=true]')")
    assert trap.evaluate("""el => { const r = el.getBoundingClientRect();
        return r.width <= 1 && r.height <= 1 && r.right <= 0; }""")
    # no point of the panel hits it or its label
    hits = form.evaluate("""panel => {
        const root = panel.getRootNode(), r = panel.getBoundingClientRect(), found = [];
        for (let x = r.left + 1; x < r.right; x += 4)
          for (let y = r.top + 1; y < r.bottom; y += 4) {
            const at = root.elementFromPoint(x, y);
            if (at && at.closest('.hp')) found.push([x, y]);
        }
        return found; }""")
    assert hits == []


def test_markup_in_the_form_and_the_merchant_texts_shows_as_text(storefront, smtp, open_page):
    header = '<i class=pwn>Write</i> <img src=x onerror="window.__pwned=1">'
    welcome = "<script>window.__pwned=2</script><u class=pwn>soon</u>"
    storefront.texts(offline_header_text=header, offline_welcome_text=welcome)
    storefront.settings(offline_fields=FIELDS)
    page = open_page()
    form = open_form(storefront, page, header=header)
    expect(form).to_contain_text(welcome)
    hostile = '<b class=pwn>Ann</b><img src=x onerror="window.__pwned=3">'
    field(form, "firstname").fill(hostile)
    field(form, "email").fill("ann@example.test")
    field(form, "message").fill("<script>alert(1)</script> & more")
    button(form, "Send").click()
    expect(page.get_by_role("status").filter(has_text=ANY_TEXT)).to_be_visible()
    text = mail_text(smtp)
    assert hostile in text and "<script>alert(1)</script> & more" in text
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert "<b class=pwn>" not in html and "&lt;script&gt;" in html
    assert page.evaluate("() => window.__pwned") is None
    for selector in (".pwn", "img[src=x]", "[onerror]"):
        assert shadow_query(page, selector) == 0, selector
