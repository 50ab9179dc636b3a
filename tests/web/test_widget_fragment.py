"""The storefront widget's fragments, server side: what a page receives (docs/widget.md), the
merchant's texts escaped, no launcher when nobody can be reached and offline mode is off, the
offline form's fields, and the widget's weight. A live chat shop on the real MariaDB."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import html.parser
import json
import re

import pytest
import werkzeug.test

from psonlinechat import render_hook
from psonlinechat.shop import offline_form
from psonlinechat.shop.settings import ModuleSettings
from psonlinechat.web import offline
from psonlinechat.web.blueprint import views_path
from psonlinechat.web.front import availability, colours, widget
from psonlinechat.web.front.strings import STRINGS
from tests.support.chatclient import HOST

BASE = f"http://{HOST}"
HOSTILE = '</script><script>alert("x")</script><!--'


def gz(data: bytes | str) -> int:
    """Bytes once gzipped at the level a server would use at most."""
    return len(gzip.compress(data.encode() if isinstance(data, str) else data, 9))


def asset(folder: str, name: str) -> bytes:
    with open(f"{views_path()}/{folder}/{name}", "rb") as file:
        return file.read()


class Scripts(html.parser.HTMLParser):
    """The ``<script>`` elements of a fragment as a browser's tokenizer splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._attrs: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._attrs = dict(attrs)
            self.scripts.append((self._attrs, ""))

    def handle_data(self, data):
        if self._attrs is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._attrs = None


def scripts(fragment: str) -> list[tuple[dict, str]]:
    parser = Scripts()
    parser.feed(fragment)
    return parser.scripts


def state_of(fragment: str) -> dict:
    """The state the loader reads: the JSON script's text, as the browser's parser ends it."""
    found = [text for attrs, text in scripts(fragment) if attrs.get("id") == "psonlinechat-state"]
    assert len(found) == 1
    return json.loads(found[0])


@pytest.fixture
def page(shop):
    """``page(cookies=None) -> (footer, header)`` for a storefront request on the shop, the
    availability cache empty (settings changes count at once)."""
    cache = availability.cache_of(shop.state)
    cache.forget()

    def render(cookies=None, **headers):
        cache.forget()
        cookies = shop.anonymous() if cookies is None else cookies
        environ = werkzeug.test.EnvironBuilder("/en/3-mug", base_url=BASE, headers={
            "Cookie": "; ".join(f"{n}={v}" for n, v in cookies), **headers}).get_environ()
        return (str(render_hook(shop.app, "displayFooter", environ)),
                str(render_hook(shop.app, "displayHeader", environ)))

    yield render
    cache.forget()


def test_the_footer_is_a_launcher_the_state_and_the_loader(shop, page):
    footer, header = page()
    assert footer.startswith('<psonlinechat-widget style="--psc-header-background:#')
    assert '<template shadowrootmode="open">' in footer
    launcher = re.search(r'<button type="button" class="launcher"[^>]*>(.*?)</button>', footer)
    assert launcher and "<span>Chat with us</span>" in launcher.group(1)
    assert "psonlinechat-widget{position:fixed" in header
    state = state_of(footer)
    assert set(state) == {"v", "lang", "availability", "socket", "offline_url", "assets",
                          "storage_key", "texts", "operator_name", "sounds", "colours",
                          "fields", "limits", "patterns", "honeypot", "strings"}
    assert state["availability"] == "offline_form"  # nobody online yet
    assert state["lang"] == "en" and state["strings"] == STRINGS
    assert state["socket"] == "/psonlinechat/ws/visitor"
    assert state["offline_url"] == "/psonlinechat/offline"
    assert state["storage_key"] == f"psonlinechat:{shop.id_shop}"
    for kind, name in (("js", "widget.js"), ("css", "widget.css")):
        digest = hashlib.sha256(asset(kind, name)).hexdigest()[:12]
        assert state["assets"][kind] == f"/psonlinechat/assets/{kind}/{name}?v={digest}"
        with shop.app.test_client().get(state["assets"][kind], base_url=BASE) as served:
            assert served.status_code == 200 and served.data == asset(kind, name)
    loader = [text for attrs, text in scripts(footer) if not attrs]
    assert loader == [asset("js", "loader.js").decode()]


def test_an_operator_online_makes_the_state_online(shop, page):
    shop.operator()
    assert state_of(page()[0])["availability"] == "online"


def test_merchant_texts_cannot_end_the_script_or_become_markup(shop, page):
    id_lang = shop.db.ids["en"]
    shop.settings(header_text={id_lang: HOSTILE},
                  welcome_text={id_lang: "<img src=x onerror=alert(1)>"},
                  operator_name='Ann & "Bob"')
    try:
        footer, _ = page()
        assert footer.count("</script>") == 2  # the state's end and the loader's end
        assert "<img" not in footer and "<script>alert" not in footer
        state = state_of(footer)
        assert state["texts"]["header"] == HOSTILE
        assert state["texts"]["welcome"] == "<img src=x onerror=alert(1)>"
        assert state["operator_name"] == 'Ann & "Bob"' and "Ann &" not in footer
    finally:
        shop.settings(header_text={id_lang: "Questions? Chat with us"},
                      welcome_text={id_lang: "Hello! How can we help you today?"})


def test_no_launcher_when_nobody_answers_and_offline_mode_is_off(shop, page):
    shop.settings(offline_mode=False)
    footer, _ = page()
    assert "psonlinechat-widget" not in footer and "psonlinechat-state" not in footer
    (attrs, stub), = scripts(footer)  # only wakes for a conversation in progress in the tab
    assert not attrs and "sessionStorage.getItem(r.key)" in stub
    resume = json.loads(stub[stub.rindex("})(") + 3:-1])
    assert resume == {"key": f"psonlinechat:{shop.id_shop}",
                      "url": "/psonlinechat/hook/displayFooter",
                      "header": widget.RESUME_HEADER}
    assert gz(footer) < 400

    whole, _ = page(**{widget.RESUME_HEADER: "1"})  # what the stub asks for
    assert whole.startswith("<psonlinechat-widget hidden ")  # not shown, not in the a11y tree
    assert state_of(whole)["availability"] == "unavailable"
    shop.settings(offline_mode=True)
    footer, _ = page()
    assert footer.startswith("<psonlinechat-widget style=")
    assert state_of(footer)["availability"] == "offline_form"


def test_the_offline_form_has_the_fields_asked_for_with_what_is_known(shop, page):
    shop.settings(offline_fields={"firstname": "required", "lastname": "hidden",
                                  "email": "required", "phone": "requested"})
    try:
        _, cookies = shop.customer("widget-form@example.test", firstname="Zoë",
                                   lastname="Stone")
        state = state_of(page(cookies)[0])
        assert state["fields"] == [
            {"name": "firstname", "state": "required", "value": "Zoë"},
            {"name": "email", "state": "required", "value": "widget-form@example.test"},
            {"name": "phone", "state": "requested", "value": ""},
            {"name": "message", "state": "required", "value": ""}]
        anonymous = state_of(page()[0])["fields"]
        assert [field["value"] for field in anonymous] == ["", "", "", ""]
        assert state["limits"] == {**offline_form.LIMITS, "chat_message": 2000}
        assert state["patterns"] == offline_form.PATTERNS
        assert state["honeypot"] == offline.HONEYPOT
        for code in (offline_form.REQUIRED, offline_form.TOO_LONG, offline_form.ONE_LINE,
                     offline_form.NOT_EMAIL, offline_form.NOT_PHONE, offline_form.NOT_TEXT):
            assert state["strings"]["e_" + code]
    finally:
        shop.settings(offline_fields=ModuleSettings().offline_fields)


def test_a_malformed_stored_colour_falls_back_to_the_default():
    odd = dataclasses.replace(ModuleSettings(), header_color="red;background:url(x)",
                              customer_background="#7A1F5C")
    found = colours.colours(odd)
    assert found["header_color"] == ModuleSettings().header_color
    assert found["customer_background"] == "#7a1f5c"  # readable already: kept


def test_every_default_pair_is_readable_as_it_stands():
    """A new shop's colours need no correction, and its back office shows no warning."""
    defaults = ModuleSettings()
    for background, text in colours.PAIRS:
        pair = getattr(defaults, background), getattr(defaults, text)
        assert colours.contrast(*pair) >= colours.MIN_CONTRAST, (background, pair)
    assert colours.colours(defaults) == {name: getattr(defaults, name)
                                         for pair in colours.PAIRS for name in pair}


@pytest.mark.parametrize("background, text", [
    ("#2c7be5", "#ffffff"), ("#ffff00", "#ffffff"), ("#777777", "#000000"),
    ("#000000", "#000000"), ("#e8eef5", "#1f2d3d")])
def test_every_pair_is_made_readable_keeping_its_text(background, text):
    settings = dataclasses.replace(ModuleSettings(), customer_background=background,
                                   customer_color=text)
    found = colours.colours(settings)
    assert found["customer_color"] == text
    assert colours.contrast(found["customer_background"], text) >= colours.MIN_CONTRAST
    if colours.contrast(background, text) >= colours.MIN_CONTRAST:
        assert found["customer_background"] == background
    for background_name, text_name in colours.PAIRS:
        assert colours.contrast(found[background_name], found[text_name]) >= 4.5


def test_script_json_escapes_what_could_end_a_script():
    text = str(widget.script_json({"a": "</script><!-- & \u2028"}))
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_the_widget_sets_text_never_html():
    source = asset("js", "widget.js").decode() + asset("js", "loader.js").decode()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source


def test_the_widget_stays_light(shop, page):
    footer, header = page()
    loader = gz(asset("js", "loader.js"))
    assert loader <= 2 * 1024
    total = gz(footer) + gz(header) + gz(asset("js", "widget.js")) + gz(asset("css", "widget.css"))
    assert total <= 12 * 1024, total
