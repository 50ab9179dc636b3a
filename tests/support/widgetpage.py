"""The storefront widget as a visitor meets it in a browser: found by role and accessible
name (docs/widget.md, issue 9's accessibility contract), in the visitor's language.

The widget's own strings come from its Babel catalogue (:func:`say`), never written out
here, so that the French tests read what the French catalogue says.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from psonlinechat.web.translations import translations

#: The launcher's name contains this (in English).
CHAT = re.compile("Chat")


def say(message: str, lang: str = "en") -> str:
    """The widget's string ``message`` (its English msgid) in ``lang``."""
    return translations(lang, "widget").gettext(message)


def launcher(page: Page, lang: str = "en") -> Locator:
    name = CHAT if lang == "en" else say("Chat with us", lang)
    return page.get_by_role("button", name=name)


def dialog(page: Page, name: str) -> Locator:
    return page.get_by_role("dialog", name=name, exact=True)


def message_box(scope: Page | Locator, lang: str = "en") -> Locator:
    return scope.get_by_role("textbox", name=say("Message", lang), exact=True)


def button(scope: Page | Locator, text: str, lang: str = "en") -> Locator:
    return scope.get_by_role("button", name=say(text, lang), exact=True)


def widget_state(page: Page) -> dict[str, Any]:
    """The state the footer fragment gave the page (``#psonlinechat-state``)."""
    text = page.evaluate("() => document.getElementById('psonlinechat-state').textContent")
    return json.loads(text)


def asset_urls(page: Page) -> set[str]:
    assets = widget_state(page)["assets"]
    return {urljoin(page.url, assets["js"]), urljoin(page.url, assets["css"])}


def wait_until(page: Page, check: Callable[[], Any], timeout: float = 10.0,
               what: str = "the condition") -> Any:
    """Wait (letting the page's events arrive) until ``check()`` is truthy; return it.

    :raises AssertionError: it stays falsy for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


def visit(page: Page, url: str, availability: str | None = "online",
          timeout: float = 8.0) -> None:
    """Go to the storefront ``url`` and wait until its footer fragment offers
    ``availability`` (``None``: no widget at all): the fragment may keep the shop's
    availability for a short while (docs/widget.md), so the page is loaded again until
    it does.

    :raises AssertionError: the page never offers it.
    """
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        offered = page.evaluate("""() => {
            const el = document.getElementById('psonlinechat-state');
            return el ? JSON.parse(el.textContent).availability : null;
        }""")
        if offered == availability:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the storefront offers {offered!r}, not {availability!r}")
        page.wait_for_timeout(300)


class Traffic:
    """What a page asks of the network: ``requests`` (URLs) and ``sockets`` (WebSocket
    URLs), recorded from the moment it is made."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        self.sockets: list[str] = []
        self.frames_sent: list[str] = []
        page.on("request", self._request)
        page.on("websocket", self._socket)

    def _request(self, request: Any) -> None:
        if not request.url.endswith("/favicon.ico"):  # the browser's own, not the page's
            self.requests.append(request.url)

    def _socket(self, ws: Any) -> None:
        self.sockets.append(ws.url)
        ws.on("framesent", lambda payload: self.frames_sent.append(
            payload if isinstance(payload, str) else payload.decode()))

    def sent(self, type: str) -> list[dict]:
        """The frames of ``type`` the page sent on its sockets."""
        frames = [json.loads(text) for text in self.frames_sent]
        return [frame for frame in frames if frame.get("type") == type]


def focus_inside(locator: Locator) -> bool:
    """Whether the focused element (through shadow roots) is ``locator``'s element or
    inside it."""
    return locator.evaluate("""el => {
        let active = document.activeElement;
        while (active && active.shadowRoot && active.shadowRoot.activeElement)
            active = active.shadowRoot.activeElement;
        return !!active && (el === active || el.contains(active));
    }""")


def focused_is(page: Page, locator: Locator) -> bool:
    """Whether ``locator``'s element is the deepest focused element."""
    return locator.evaluate("""el => {
        let active = document.activeElement;
        while (active && active.shadowRoot && active.shadowRoot.activeElement)
            active = active.shadowRoot.activeElement;
        return el === active;
    }""")


_FOCUS_RING = """() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                 || s.boxShadow !== 'none';
    return [el.tagName + (el.className ? '.' + el.className : ''), ring];
}"""


def focus_ring(page: Page) -> tuple[str, bool] | None:
    """The focused element (through shadow roots) and whether it shows a focus ring (an
    outline or a box shadow); ``None`` when nothing is focused."""
    found = page.evaluate(_FOCUS_RING)
    return None if found is None else (found[0], found[1])


def tab_to(page: Page, target: Locator, presses: int = 12) -> list[str]:
    """Press Tab until ``target`` has the focus; return the elements passed on the way
    that showed no focus ring.

    :raises AssertionError: ``target`` is not reached in ``presses`` presses.
    """
    unringed: list[str] = []
    for _ in range(presses):
        if focused_is(page, target):
            return unringed
        page.keyboard.press("Tab")
        ring = focus_ring(page)
        if ring is not None and not ring[1]:
            unringed.append(ring[0])
    assert focused_is(page, target), f"Tab never reaches {target}"
    return unringed


def backgrounds(locator: Locator, stop: Locator) -> list[str]:
    """The computed background colours of ``locator``'s element and its ancestors up to
    ``stop``'s element (inclusive)."""
    return locator.evaluate("""(el, stop) => {
        const found = [];
        for (let node = el; node; node = node.parentElement || node.getRootNode().host) {
            found.push(getComputedStyle(node).backgroundColor);
            if (node === stop) break;
        }
        return found;
    }""", stop.element_handle())


def rgb(colour: str) -> str:
    """``#rrggbb`` as computed styles write it."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def shadow_query(page: Page, selector: str) -> int:
    """How many elements of the widget's shadow root (and the document) match ``selector``."""
    return page.evaluate("""selector => {
        const host = document.querySelector('psonlinechat-widget');
        const inShadow = host && host.shadowRoot
            ? host.shadowRoot.querySelectorAll(selector).length : 0;
        return inShadow + document.querySelectorAll(selector).length;
    }""", selector)


# ---------------------------------------------------------------------------
# A visitor chatting with an operator
# ---------------------------------------------------------------------------

HEADER = "Questions? Talk to Ann"
WELCOME = "Hello! Ask us anything about our mugs."
OPERATOR = "Alice from the shop"


def open_chat(page: Page, *, header: str = HEADER) -> Locator:
    """Open the launcher on the storefront; the chat's dialog."""
    launcher(page).click()
    panel = dialog(page, header)
    expect(panel).to_be_visible()
    return panel


def chat_ready(shop: Any, open_page: Callable[..., Page],
               **page_options: Any) -> tuple[Any, Page, Locator]:
    """An operator online, the merchant's texts set, a visitor on the storefront with the
    chat open: ``(operator, page, panel)``."""
    shop.settings(operator_name=OPERATOR)
    shop.texts(header_text=HEADER, welcome_text=WELCOME)
    operator = shop.operator()
    page = open_page(**page_options)
    visit(page, shop.page_url)
    return operator, page, open_chat(page)


def send(panel: Locator, text: str) -> None:
    message_box(panel).fill(text)
    button(panel, "Send").click()


def first_message(operator: Any, body: str) -> int:
    """The operator sees the visitor's first message (``body``) open a conversation; its
    id."""
    message = operator.expect("message", timeout=10, body=body)
    assert message["author"] == "customer"
    opened = operator.expect(lambda e: e["type"] == "conversation" and e["conversation"][
        "id_conversation"] == message["id_conversation"], timeout=1)
    assert opened["conversation"]["status"] == "ongoing"
    return message["id_conversation"]


def stored_bodies(shop: Any, id_conversation: int) -> list[str]:
    m = shop.db.tables.message
    return [row.body for row in shop.query(
        sa.select(m.c.body).where(m.c.id_conversation == id_conversation, m.c.kind == "message")
        .order_by(m.c.seq))]


def target_sizes(page: Page) -> list[list]:
    """``[name, width, height]`` of every control of the widget a person can reach (through
    its shadow root; hidden ones and those kept from people, ``aria-hidden``, left out)."""
    return page.evaluate("""() => {
        const root = document.querySelector('psonlinechat-widget').shadowRoot;
        return [...root.querySelectorAll('button, [role=button], input, textarea, a[href]')]
            .filter(el => el.getClientRects().length && !el.closest('[aria-hidden=true]'))
            .map(el => { const r = el.getBoundingClientRect();
                         return [el.textContent.trim() || el.getAttribute('aria-label')
                                 || el.id || el.name, r.width, r.height]; });
    }""")
