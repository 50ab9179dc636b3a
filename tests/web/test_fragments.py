"""A hook's fragment reaches a shop page three ways: render_hook, GET <prefix>/hook/<name>, and
the FragmentInjector middleware; identity comes from the page's own request."""

from __future__ import annotations

import gzip
import logging

import pytest
import werkzeug.test
from flask import Flask
from markupsafe import Markup

import psonlinechat
from psonlinechat import OnlineChat, hookimpl, render_hook
from psonlinechat.web import inject
from psonlinechat.web.inject import FragmentInjector
from tests.support import shopdb
from tests.support.apps import chat_app, closed_after_test

HOST = shopdb.SHOP_DOMAIN
BASE = f"http://{HOST}"
PREFIX = "/psonlinechat"


class Fragments:
    """Says who is there in every display hook; the footer is plain markup, as a plugin's is."""

    @hookimpl
    def display_header(self, context):
        return '<link rel="stylesheet" href="/chat.css">'

    @hookimpl
    def display_footer(self, context):
        return f'<div class="chat" data-customer="{context.visitor.id_customer}"><b>Chat</b></div>'

    @hookimpl
    def display_back_office_header(self, context):
        return "<style>.bo{}</style>"

    @hookimpl
    def display_back_office_footer(self, context):
        employee = context.employee
        return f"<aside>employee {employee.id_employee if employee else 'nobody'}</aside>"


class Failing:
    @hookimpl
    def display_footer(self, context):
        raise LookupError("no widget today")


@pytest.fixture(scope="module")
def customer(ps_db, keys):
    return ps_db.signed_in_customer(keys, email="fragments@example.test")


@pytest.fixture(scope="module")
def employee(ps_db, keys):
    return ps_db.signed_in_employee(keys, email="fragments-bo@example.test")


def without_builtin_fragments(app: Flask) -> Flask:
    """``app`` with the built-in display handlers (the widget, the console) blocked, so that
    a fragment is exactly what this module's plugins give."""
    plugins = psonlinechat.get_state(app).plugins
    for name, _ in plugins.list_name_plugin():
        if name.startswith("psonlinechat.hooks.display_"):
            plugins.set_blocked(name)
    return app


@pytest.fixture
def app(ps_db, keys) -> Flask:
    return closed_after_test(without_builtin_fragments(
        chat_app(ps_db, keys, chat=OnlineChat(plugins=[Fragments()]))))


def environ_for(path: str = "/", *cookies, method: str = "GET") -> dict:
    headers = {"Cookie": "; ".join(f"{n}={v}" for n, v in cookies)} if cookies else {}
    return werkzeug.test.EnvironBuilder(path, base_url=BASE, method=method, headers=headers,
                                        environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()


# --- the Python call -----------------------------------------------------------------------

def test_render_hook_is_public_and_takes_either_spelling(app, customer):
    assert "render_hook" in psonlinechat.__all__
    environ = environ_for("/", customer[1])
    html = render_hook(app, "displayFooter", environ)  # no Flask request anywhere
    assert isinstance(html, Markup)
    assert html == f'<div class="chat" data-customer="{customer[0]}"><b>Chat</b></div>'
    assert render_hook(app, "display_footer", environ) == html
    assert render_hook(app, "displayHeader", environ) == '<link rel="stylesheet" href="/chat.css">'


def test_render_hook_knows_who_is_there(app, customer, employee):
    anonymous = render_hook(app, "displayFooter", environ_for("/"))
    assert anonymous == '<div class="chat" data-customer="None"><b>Chat</b></div>'
    assert render_hook(app, "displayFooter", environ_for("/", customer[1])) != anonymous
    assert render_hook(app, "displayBackOfficeFooter", environ_for("/", employee[1])) == (
        f"<aside>employee {employee[0]}</aside>")
    assert render_hook(app, "displayBackOfficeFooter", environ_for("/")) == (
        "<aside>employee nobody</aside>")


def test_render_hook_in_a_request_uses_its_environ(app, customer):
    with app.test_request_context("/", base_url=BASE,
                                  headers={"Cookie": "=".join(customer[1])}):
        assert f'data-customer="{customer[0]}"' in render_hook(app, "displayFooter")
    with pytest.raises(RuntimeError, match="environ"):
        render_hook(app, "displayFooter")


@pytest.mark.parametrize("name", ["displayFooterX", "actionMessagePosted",
                                  "action_message_posted", "display", "DisplayFooter", ""])
def test_render_hook_refuses_unknown_names(app, name):
    with pytest.raises(ValueError, match="no display hook named"):
        render_hook(app, name, environ_for("/"))


def test_render_hook_needs_an_online_chat():
    with pytest.raises(RuntimeError, match="OnlineChat"):
        render_hook(Flask(__name__), "displayFooter", environ_for("/"))


# --- the HTTP endpoint --------------------------------------------------------------------------

def fetch(app, name: str, *cookies, method: str = "GET", headers=None):
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{n}={v}" for n, v in cookies)
    return app.test_client(use_cookies=False).open(f"{PREFIX}/hook/{name}", base_url=BASE,
                                                   method=method, headers=headers)


def test_the_endpoint_serves_a_storefront_fragment_cached_privately(app, customer):
    response = fetch(app, "displayFooter", customer[1])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=30"
    assert {"Cookie", "Accept-Language"} <= {v.strip() for v in
                                             response.headers["Vary"].split(",")}
    assert response.get_data(as_text=True) == (
        f'<div class="chat" data-customer="{customer[0]}"><b>Chat</b></div>')
    assert 'data-customer="None"' in fetch(app, "displayFooter").get_data(as_text=True)
    assert fetch(app, "displayHeader").get_data(as_text=True) == (
        '<link rel="stylesheet" href="/chat.css">')


def test_back_office_fragments_are_never_stored(app, employee):
    for name in ("displayBackOfficeHeader", "displayBackOfficeFooter"):
        response = fetch(app, name, employee[1])
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "Cookie" in response.headers["Vary"]
    assert response.get_data(as_text=True) == f"<aside>employee {employee[0]}</aside>"


def test_head_answers_the_headers_without_a_body(app, customer):
    got, head = fetch(app, "displayFooter", customer[1]), fetch(
        app, "displayFooter", customer[1], method="HEAD")
    assert head.status_code == 200 and head.get_data() == b""
    for header in ("Content-Type", "Content-Length", "Cache-Control", "Vary"):
        assert head.headers[header] == got.headers[header]


@pytest.mark.parametrize("name", ["display_footer", "displayfooter", "actionMessagePosted",
                                  "displayFooter<script>alert(1)</script>"])
def test_the_endpoint_knows_only_prestashops_display_hooks(app, name):
    response = fetch(app, name)
    assert response.status_code == 404
    assert b"<script>" not in response.get_data()
    assert fetch(app, "displayFooter", method="POST").status_code == 405


def test_what_a_plugin_renders_from_the_request_is_escaped(ps_db, keys, tmp_path):
    (tmp_path / "psonlinechat" / "hook").mkdir(parents=True)
    (tmp_path / "psonlinechat" / "hook" / "echo.html").write_text(
        "<p data-lang='{{ lang }}'>{{ path }}</p>")

    class Echo:
        @hookimpl
        def display_header(self, context):
            return context.render("psonlinechat/hook/echo.html", path=context.request.path,
                                  lang=context.request.headers.get("Accept-Language"))

    app = closed_after_test(without_builtin_fragments(
        chat_app(ps_db, keys, chat=OnlineChat(plugins=[Echo()]))))
    app.template_folder = str(tmp_path)
    hostile = "<script>x</script>"
    response = fetch(app, "displayHeader", headers={"Accept-Language": f"'>{hostile}"})
    html = response.get_data(as_text=True)
    assert hostile not in html and "&lt;script&gt;" in html
    assert html.startswith("<p data-lang=") and html.endswith("</p>")  # the plugin's HTML


# --- the WSGI middleware ------------------------------------------------------------------------

PAGE = (b"<!doctype html><html><head><title>Shop</title></head><body><p>Hats</p>"
        b"<script>var s = '</body>';</script></body></html>")


class Body:
    """A response body that is not a list, and knows whether the server closed it."""

    def __init__(self, chunks):
        self.chunks, self.closed = chunks, 0

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.closed += 1


class ShopPage:
    """A shop's page as plain WSGI (no Flask): ``body`` with the headers given."""

    def __init__(self, body=PAGE, *, status="200 OK", content_type="text/html; charset=utf-8",
                 length=True, headers=(), iterable=None):
        self.body, self.status, self.content_type = body, status, content_type
        self.length, self.headers = length, list(headers)
        self.iterable = iterable if iterable is not None else Body([body[:40], body[40:]])

    def __call__(self, environ, start_response):
        headers = [("Content-Type", self.content_type), *self.headers]
        if self.length:
            headers.append(("Content-Length", str(len(self.body))))
        start_response(self.status, headers)
        return self.iterable


def get(middleware, path="/", *cookies, method="GET"):
    client = werkzeug.test.Client(middleware, use_cookies=False)
    headers = {"Cookie": "; ".join(f"{n}={v}" for n, v in cookies)} if cookies else {}
    return client.open(path, base_url=BASE, method=method, headers=headers,
                       environ_base={"REMOTE_ADDR": "127.0.0.1"})


def call(middleware, method="GET"):
    """Call the middleware as a server would: ``(status, headers, returned iterable)``."""
    started = []
    result = middleware(environ_for("/", method=method),
                        lambda status, headers, exc_info=None: started.append((status, headers)))
    return started, result


def test_the_middleware_inserts_the_header_and_footer_once_and_fixes_the_length(app, customer):
    page = ShopPage(headers=[("ETag", '"v1"'), ("Vary", "Accept-Encoding")])
    response = get(FragmentInjector(page, app), "/", customer[1])
    body = response.get_data()
    assert body == PAGE.replace(b"</head>", b'<link rel="stylesheet" href="/chat.css"></head>'
                                ).replace(b"</script></body>", b'</script><div class="chat" '
                                          b'data-customer="%d"><b>Chat</b></div></body>'
                                          % customer[0])
    assert int(response.headers["Content-Length"]) == len(body)
    assert "ETag" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding, Cookie, Accept-Language"
    assert page.iterable.closed == 1  # read whole, then closed (PEP 3333)
    anonymous = get(FragmentInjector(ShopPage(), app)).get_data()
    assert b'data-customer="None"' in anonymous and anonymous != body


def test_the_middleware_finds_uppercase_tags_and_inserts_only_where_there_is_a_place(app):
    upper = b"<HTML><HEAD></HEAD><BODY>x</BODY></HTML>"
    body = get(FragmentInjector(ShopPage(upper), app)).get_data()
    assert body == (b'<HTML><HEAD><link rel="stylesheet" href="/chat.css"></HEAD><BODY>x'
                    b'<div class="chat" data-customer="None"><b>Chat</b></div></BODY></HTML>')
    headless = b"<p>no head</p></body>"
    response = get(FragmentInjector(ShopPage(headless), app))
    assert response.get_data() == (b'<p>no head</p><div class="chat" data-customer="None">'
                                   b"<b>Chat</b></div></body>")
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    bare = get(FragmentInjector(ShopPage(b"<p>a fragment</p>"), app))
    assert bare.get_data() == b"<p>a fragment</p>" and bare.headers["Content-Length"] == "17"


def test_a_list_body_without_a_length_is_changed(app):
    page = ShopPage(length=False, iterable=[PAGE[:10], PAGE[10:]])
    response = get(FragmentInjector(page, app))
    assert b"/chat.css" in response.get_data()
    assert int(response.headers["Content-Length"]) == len(response.get_data())


@pytest.mark.parametrize("page", [
    ShopPage(gzip.compress(PAGE), headers=[("Content-Encoding", "gzip")]),
    ShopPage(content_type="application/json"),
    ShopPage(content_type="text/plain; charset=utf-8"),
    ShopPage(status="304 Not Modified"),
    ShopPage(status="204 No Content"),
    ShopPage(status="206 Partial Content"),
    ShopPage(length=False, iterable=(chunk for chunk in [PAGE])),  # streamed
], ids=["gzip", "json", "text", "304", "204", "206", "streamed"])
def test_the_middleware_leaves_other_answers_untouched(app, page):
    started, result = call(FragmentInjector(page, app))
    assert result is page.iterable  # given back as is: not read, not buffered
    [(status, headers)] = started
    assert status == page.status and ("Vary", "Cookie, Accept-Language") not in headers


def test_head_requests_are_passed_through(app):
    page = ShopPage()
    started, result = call(FragmentInjector(page, app), method="HEAD")
    assert result is page.iterable and started[0][1][-1] == ("Content-Length", str(len(PAGE)))


def test_an_endless_stream_is_never_buffered(app):
    def endless():
        while True:
            yield b"<p>tick</p></body>"

    stream = endless()
    page = ShopPage(length=False, iterable=stream)
    started, result = call(FragmentInjector(page, app))
    assert result is stream and next(iter(result)) == b"<p>tick</p></body>"


def test_bodies_over_the_bound_are_untouched(app):
    declared = ShopPage(PAGE)
    started, result = call(FragmentInjector(declared, app, max_bytes=len(PAGE) - 1))
    assert result is declared.iterable
    listed = ShopPage(length=False, iterable=Body([PAGE[:50], PAGE[50:]]))
    started, result = call(FragmentInjector(listed, app, max_bytes=len(PAGE) - 1))
    assert b"".join(result) == PAGE  # read past the bound: what was read, then the rest
    result.close()
    assert listed.iterable.closed == 1


def test_a_failing_fragment_leaves_the_page_as_it_was_and_is_logged(ps_db, keys, caplog):
    app = closed_after_test(chat_app(ps_db, keys,
                                     chat=OnlineChat(plugins=[Fragments(), Failing()])))
    page = ShopPage()
    with caplog.at_level(logging.ERROR, logger=inject.__name__):
        response = get(FragmentInjector(page, app), "/category/3")
    assert response.get_data() == PAGE
    assert response.headers["Content-Length"] == str(len(PAGE))
    assert page.iterable.closed == 1
    [record] = caplog.records
    assert "/category/3" in record.getMessage()
    assert str(record.exc_info[1]) == "no widget today"


def test_back_office_pages_get_the_back_office_fragments(app, employee):
    always = get(FragmentInjector(ShopPage(), app, back_office=True), "/", employee[1])
    assert b"<style>.bo{}</style></head>" in always.get_data()
    assert b"<aside>employee %d</aside></body>" % employee[0] in always.get_data()
    assert b"/chat.css" not in always.get_data()

    def is_admin(environ):
        return environ["PATH_INFO"].startswith("/admin")

    middleware = FragmentInjector(ShopPage(), app, back_office=is_admin)
    assert b"<aside>employee nobody</aside>" in get(middleware, "/admin/orders").get_data()
    assert b"/chat.css" in get(middleware, "/cart").get_data()


def test_pages_chooses_the_requests_that_are_changed(app):
    def not_api(environ):
        return not environ["PATH_INFO"].startswith("/api")

    middleware = FragmentInjector(ShopPage(), app, pages=not_api)
    assert get(middleware, "/api/page").get_data() == PAGE
    assert b"/chat.css" in get(middleware, "/page").get_data()


def test_a_body_failing_while_read_is_closed_and_its_error_kept(app):
    class Broken(Body):
        def __iter__(self):
            yield b"<html><head>"
            raise OSError("the shop's backend went away")

    page = ShopPage(iterable=Broken([]))
    with pytest.raises(OSError, match="went away"):
        call(FragmentInjector(page, app))
    assert page.iterable.closed == 1


def test_a_page_written_through_write_is_changed_too(app):
    def legacy(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/html")])
        write(PAGE[:30])
        return [PAGE[30:]]

    response = get(FragmentInjector(legacy, app))
    assert response.get_data().startswith(PAGE[:30]) and b"/chat.css" in response.get_data()
    assert int(response.headers["Content-Length"]) == len(response.get_data())
