"""The demo shop's pages carry the hooks' fragments through the middleware, as a proxied shop's
would; the module's own answers under its prefix are left alone."""

from __future__ import annotations

from psonlinechat import get_state, hookimpl
from psonlinechat.demo.app import ADMIN_PATH

BASE = "http://127.0.0.1"


class Marks:
    @hookimpl
    def display_header(self, context):
        return "<meta name='front-head'>"

    @hookimpl
    def display_footer(self, context):
        return "<i id='front-foot'></i>"

    @hookimpl
    def display_back_office_header(self, context):
        return "<meta name='bo-head'>"

    @hookimpl
    def display_back_office_footer(self, context):
        return "<i id='bo-foot'></i>"


def test_the_demo_pages_carry_a_plugins_fragments(demo):
    client = demo.test_client()
    plain = client.get("/", base_url=BASE).get_data(as_text=True)
    get_state(demo).plugins.register(Marks())
    front = client.get("/", base_url=BASE)
    html = front.get_data(as_text=True)
    head, body = html.split("</head>", 1)
    assert "<meta name='front-head'>" in head and "<i id='front-foot'></i>" in body
    # A plugin's fragment comes before the built-in widget's (registered trylast).
    assert body.index("<i id='front-foot'></i>") < body.index("<psonlinechat-widget")
    assert body.rstrip().endswith("</body>\n</html>")
    assert "bo-" not in html
    # Answers are joined with a newline; without the plugin's, the page is the same.
    assert html.replace("<meta name='front-head'>\n", "").replace(
        "<i id='front-foot'></i>\n", "") == plain
    assert int(front.headers["Content-Length"]) == len(front.get_data())
    admin = client.get(ADMIN_PATH + "/login", base_url=BASE).get_data(as_text=True)
    assert "<meta name='bo-head'></head>" in admin and "<i id='bo-foot'></i></body>" in admin
    assert "front-" not in admin


class EndTag:
    @hookimpl
    def display_footer(self, context):
        return "</body>"


def test_the_modules_own_answers_are_left_alone(demo):
    get_state(demo).plugins.register(Marks())
    get_state(demo).plugins.register(EndTag())
    response = demo.test_client().get("/psonlinechat/hook/displayFooter", base_url=BASE)
    # Through the middleware, the fragment's own </body> would get the footer once more.
    text = response.get_data(as_text=True)
    assert text.startswith("</body>\n<i id='front-foot'></i>")
    assert text.count("<i id='front-foot'></i>") == 1 and text.count("</body>") == 1
