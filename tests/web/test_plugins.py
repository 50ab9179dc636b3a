"""The plugin contract: one pluggy manager per app, entry points, identity and events."""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import textwrap

import flask
import pluggy
import pytest
import werkzeug.test
from flask import Flask, jsonify, request

import psonlinechat
from psonlinechat import Employee, OnlineChat, Visitor, get_state, hookimpl, testing
from psonlinechat.shop import installer
from psonlinechat.web import plugins
from tests.support import shopdb
from tests.support.apps import chat_app, closed_after_test
from tests.support.chatclient import cookie_header

HOST = shopdb.SHOP_DOMAIN
PARTNER_MODULE = "psonlinechat_partner_identity"


def make_app(db, keys, chat: OnlineChat | None = None) -> Flask:
    """A host app bridging ``db`` with ``chat``, answering ``/whoami``; closed after the test."""
    app = closed_after_test(chat_app(db, keys, chat=chat))

    @app.get("/whoami")
    def whoami():
        state = get_state()
        employee = state.identify_employee(request)
        return jsonify(customer=state.identify_visitor(request).id_customer,
                       employee=employee.id_employee if employee else None)

    return app


def ask(app, *cookies, headers=None) -> dict:
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    response = app.test_client(use_cookies=False).get("/whoami", base_url=f"http://{HOST}",
                                                       headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture(scope="module")
def customer(ps_db, keys):
    """A signed-in customer: ``(id_customer, cookie)``."""
    with ps_db.engine.begin() as conn:
        id_customer = testing.add_customer(conn, ps_db.tables, email="plugins@example.test")
        return id_customer, testing.sign_in_customer(conn, ps_db.tables, keys, HOST,
                                                     id_customer, ps_db.ids["en"])


@pytest.fixture(scope="module")
def employee(ps_db, keys):
    """A signed-in employee: ``(id_employee, cookie)``."""
    with ps_db.engine.begin() as conn:
        id_employee = testing.add_employee(conn, ps_db.tables, email="plugins-bo@example.test")
        return id_employee, testing.sign_in_employee(conn, ps_db.tables, keys, HOST, id_employee)


@pytest.fixture
def partner_distribution(tmp_path, monkeypatch):
    """A third-party distribution on ``sys.path``, found only through its entry point: it
    names the customer of an ``X-Partner-Customer`` header, and knows nothing otherwise."""
    (tmp_path / f"{PARTNER_MODULE}.py").write_text(textwrap.dedent("""
        from psonlinechat import Visitor, hookimpl

        @hookimpl
        def identify_visitor(request, shop):
            given = request.headers.get("X-Partner-Customer")
            if given is None:
                return None
            return Visitor(id_shop=1, id_lang=1, id_customer=int(given))
    """))
    info = tmp_path / "psonlinechat_partner-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: psonlinechat-partner\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[psonlinechat]\npartner = {PARTNER_MODULE}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "partner"
    sys.modules.pop(PARTNER_MODULE, None)


# --- the built-in handlers and the entry-point group -----------------------------------------

def test_builtins_come_through_the_entry_point_group_and_go_last(ps_db, keys):
    declared = {ep.name: ep.value
                for ep in importlib.metadata.entry_points(group=plugins.ENTRY_POINT_GROUP)}
    assert declared["psonlinechat.hooks.identify_visitor"] == "psonlinechat.hooks.identify_visitor"
    assert declared["psonlinechat.hooks.identify_employee"] == (
        "psonlinechat.hooks.identify_employee")
    pm = get_state(make_app(ps_db, keys)).plugins
    assert {dist.project_name for _, dist in pm.list_plugin_distinfo()} == {"psonlinechat"}
    for hook in (pm.hook.identify_visitor, pm.hook.identify_employee):
        builtin = hook.get_hookimpls()[0]  # pluggy calls the list from its end
        assert builtin.plugin_name.startswith("psonlinechat.hooks.")
        assert builtin.trylast


def test_a_third_party_plugin_from_a_real_entry_point_beats_the_cookies(
        ps_db, keys, customer, partner_distribution):
    id_customer, cookie = customer
    app = make_app(ps_db, keys)
    pm = get_state(app).plugins
    assert pm.has_plugin(partner_distribution)
    assert "psonlinechat-partner" in {dist.project_name for _, dist in pm.list_plugin_distinfo()}
    assert ask(app, cookie, headers={"X-Partner-Customer": "4242"})["customer"] == 4242
    # The partner knows nothing of this request: the shop's cookie answers.
    assert ask(app, cookie)["customer"] == id_customer


def test_plugins_given_to_online_chat_are_asked_in_order(ps_db, keys, employee):
    id_employee, cookie = employee
    robot = Employee(id_employee=999, firstname="Robo", lastname="T", email="r@t.test",
                     id_lang=1, id_profile=1)

    class Staff:
        @hookimpl
        def identify_employee(self, request):
            return robot if request.headers.get("X-Staff") == "robot" else None

    class Nobody:
        @hookimpl
        def identify_employee(self, request):
            return None

    app = make_app(ps_db, keys, OnlineChat(plugins=[Nobody(), Staff()]))
    assert ask(app, headers={"X-Staff": "robot"})["employee"] == 999
    assert ask(app, cookie)["employee"] == id_employee
    order = [impl.plugin for impl in reversed(
        get_state(app).plugins.hook.identify_employee.get_hookimpls())]
    assert [type(plugin).__name__ for plugin in order[1:3]] == ["Nobody", "Staff"]


def test_the_host_loaders_still_win(ps_db, keys, customer, employee,
                                    partner_distribution):
    class Staff:
        @hookimpl
        def identify_employee(self):
            return Employee(id_employee=999, firstname="Robo", lastname="T", email="r@t.test",
                            id_lang=1, id_profile=1)

    seen = []
    chat = OnlineChat(plugins=[Staff()], identify_employee=lambda req: None)
    app = make_app(ps_db, keys, chat)

    @chat.visitor_loader  # after init_app
    def load_visitor(req):
        seen.append((type(req), req.path))
        return Visitor(id_shop=1, id_lang=1, id_customer=7)

    get_state(app).plugins.register(Staff(), name="registered after init_app")
    answer = ask(app, customer[1], employee[1], headers={"X-Partner-Customer": "4242"})
    # The loader's None is final: neither the plugins nor the psAdmin cookie are asked.
    assert answer == {"customer": 7, "employee": None}
    assert seen == [(flask.Request, "/whoami")]


def test_two_apps_have_their_own_plugin_managers(ps_db, keys, customer):
    id_customer, cookie = customer

    class Partner:
        @hookimpl
        def identify_visitor(self):
            return Visitor(id_shop=1, id_lang=1, id_customer=31)

    plain = make_app(ps_db, keys)
    partnered = make_app(ps_db, keys, OnlineChat(plugins=[Partner()]))
    assert get_state(plain).plugins is not get_state(partnered).plugins
    assert ask(partnered, cookie)["customer"] == 31
    assert ask(plain, cookie)["customer"] == id_customer
    get_state(plain).plugins.register(Partner())
    assert ask(plain, cookie)["customer"] == 31
    plugins = get_state(partnered).plugins
    builtins = [name for name, _ in plugins.list_name_plugin()
                if name.startswith("psonlinechat.hooks.")]
    assert len(builtins) >= 2 and "psonlinechat.hooks.identify_visitor" in builtins
    assert len(plugins.get_plugins()) == len(builtins) + 2  # the built-ins, Partner, loaders


def test_a_misspelt_hook_is_refused_at_init(ps_db, keys):
    class Typo:
        @hookimpl
        def display_fotter(self, context):
            return "<p>never</p>"

    app = Flask(__name__)
    app.config.update(ps_db.config())
    with pytest.raises(pluggy.PluginValidationError, match="display_fotter"):
        OnlineChat(app, plugins=[Typo()])


# --- identity from a bare WSGI environ -------------------------------------------------------

def shop_page(environ, start_response):
    """The shop's own page: plain WSGI, no Flask anywhere."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the shop's page"]


def test_identity_from_a_plain_wsgi_middleware(ps_db, keys, customer, employee):
    state = get_state(make_app(ps_db, keys))
    seen = []

    def middleware(environ, start_response):
        visitor, staff = state.visitor_of(environ), state.employee_of(environ)
        seen.append((visitor.id_customer, staff.id_employee if staff else None,
                     flask.has_request_context(), state.visitor_of(environ) is visitor))
        return shop_page(environ, start_response)

    client = werkzeug.test.Client(middleware, use_cookies=False)
    response = client.get(  # a server sets REMOTE_ADDR: the psAdmin cookie is bound to it
        "/category/3", base_url=f"http://{HOST}", environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"Cookie": "; ".join(f"{n}={v}" for n, v in (customer[1], employee[1]))})
    assert response.get_data() == b"the shop's page"
    client.get("/", base_url=f"http://{HOST}")
    assert seen == [(customer[0], employee[0], False, True), (None, None, False, True)]


def test_host_loaders_get_a_request_made_from_a_bare_environ(ps_db, keys):
    seen = []

    def load_visitor(req):
        seen.append((type(req), req.path, req.headers.get("X-Customer")))
        return Visitor(id_shop=1, id_lang=1, id_customer=int(req.headers["X-Customer"]))

    state = get_state(make_app(ps_db, keys,
                                                 OnlineChat(identify_visitor=load_visitor)))
    environ = werkzeug.test.EnvironBuilder("/product/9", base_url=f"http://{HOST}",
                                           headers={"X-Customer": "12"}).get_environ()
    assert state.visitor_of(environ).id_customer == 12
    assert seen == [(flask.Request, "/product/9", "12")]
    with pytest.raises(RuntimeError, match="visitor_of"):  # no environ, no Flask request
        state.plugins.hook.identify_visitor(request=psonlinechat.RequestFacts.of(environ),
                                            shop=state.shop)


def test_without_any_identify_plugin_the_visitor_is_an_error(ps_db, keys):
    state = get_state(make_app(ps_db, keys))
    state.plugins.set_blocked("psonlinechat.hooks.identify_visitor")
    environ = werkzeug.test.EnvironBuilder("/", base_url=f"http://{HOST}").get_environ()
    with pytest.raises(psonlinechat.PsOnlineChatError, match="identify_visitor"):
        state.visitor_of(environ)


# --- display hooks -----------------------------------------------------------------------------

def test_display_hooks_join_every_plugin_in_order(ps_db, keys, customer, tmp_path):
    (tmp_path / "psonlinechat" / "hook").mkdir(parents=True)
    (tmp_path / "psonlinechat" / "hook" / "partner.html").write_text(
        "<p>{{ greeting }}, customer {{ id_customer }}</p>")

    class Rendered:
        @hookimpl
        def display_footer(self, context):
            return context.render("psonlinechat/hook/partner.html", greeting="Hello",
                                  id_customer=context.visitor.id_customer)

    class Silent:
        @hookimpl
        def display_footer(self, context):
            return None

    class Plain:
        @hookimpl
        def display_footer(self, context):
            return f"<i>{context.request.path}</i>"

    app = make_app(ps_db, keys, OnlineChat(plugins=[Rendered(), Silent(), Plain()]))
    app.template_folder = str(tmp_path)  # the host's templates, before the first render
    state = get_state(app)
    for name, _ in state.plugins.list_name_plugin():  # the widget's and console's handlers
        if name.startswith("psonlinechat.hooks.display_"):
            state.plugins.set_blocked(name)
    environ = werkzeug.test.EnvironBuilder(
        "/cart", base_url=f"http://{HOST}",
        headers={"Cookie": f"{customer[1][0]}={customer[1][1]}"}).get_environ()
    expected = f"<p>Hello, customer {customer[0]}</p>\n<i>/cart</i>"
    assert state.display("display_footer", environ) == expected  # outside any Flask context
    with app.test_request_context("/cart", base_url=f"http://{HOST}",
                                  headers={"Cookie": f"{customer[1][0]}={customer[1][1]}"}):
        assert state.display("display_footer", request.environ) == expected
    assert state.display("display_header", environ) == ""

    class Broken:
        @hookimpl
        def display_header(self, context):
            raise LookupError("no banner today")

    state.plugins.register(Broken())
    with pytest.raises(LookupError, match="no banner today"):  # a page shows the failure
        state.display("display_header", environ)
    with pytest.raises(ValueError, match="action_message_posted"):
        state.display("action_message_posted", environ)


def test_the_hook_context_asks_identity_only_when_read(ps_db, keys):
    calls = []
    chat = OnlineChat(identify_visitor=lambda req: calls.append(1) or Visitor(1, 1))
    state = get_state(make_app(ps_db, keys, chat))
    environ = werkzeug.test.EnvironBuilder("/", base_url=f"http://{HOST}").get_environ()
    context = state.hook_context(environ)
    assert calls == []
    assert context.visitor is context.visitor
    assert calls == [1]


# --- action hooks ------------------------------------------------------------------------------

class Listening:
    def __init__(self):
        self.heard = []

    @hookimpl
    def action_conversation_ended(self, id_shop, id_conversation, by):
        self.heard.append((id_shop, id_conversation, by))


class Failing:
    @hookimpl
    def action_conversation_ended(self, id_conversation):
        raise RuntimeError(f"cannot archive {id_conversation}")


def test_a_failing_action_plugin_is_logged_and_the_others_still_hear(
        ps_db, keys, caplog):
    listening = Listening()
    app = make_app(ps_db, keys, OnlineChat(plugins=[Failing(), listening]))
    state = get_state(app)
    try:
        actions = state.chat().ctx.actions  # what the chat core calls after a commit
        with caplog.at_level(logging.ERROR, logger=plugins.__name__):
            actions("action_conversation_ended", id_shop=1, id_conversation=7, by="operator")
    finally:
        state.stop_chat()
    assert listening.heard == [(1, 7, "operator")]
    [record] = caplog.records
    assert "action_conversation_ended" in record.getMessage()
    assert "cannot archive 7" in str(record.exc_info[1])


class Recording:
    """Every action it hears, as ``(hook, arguments)``; nothing else."""

    def __init__(self):
        self.heard = []

    @hookimpl
    def action_conversation_opened(self, id_shop, conversation):
        self.heard.append(("opened", id_shop, conversation["id_conversation"]))

    @hookimpl
    def action_message_posted(self, id_conversation, message):
        self.heard.append(("posted", id_conversation, message["body"]))

    @hookimpl
    def action_conversation_ended(self, id_conversation, by):
        self.heard.append(("ended", id_conversation, by))

    @hookimpl
    def action_conversation_archived(self, id_conversations):
        self.heard.append(("archived", id_conversations))


class FailingEverywhere:
    @hookimpl
    def action_conversation_opened(self):
        raise RuntimeError("opened")

    @hookimpl
    def action_message_posted(self):
        raise RuntimeError("posted")


def test_plugins_hear_the_chat_core_and_a_failing_one_breaks_nothing(ps_db, keys, employee,
                                                                     caplog):
    installer.install(ps_db.engine, ps_db.tables)
    recording = Recording()
    state = get_state(make_app(ps_db, keys, OnlineChat(plugins=[FailingEverywhere(),
                                                                recording])))
    id_shop, id_employee = ps_db.ids["shop"], employee[0]
    chat = state.chat()
    try:
        chat.operators.socket_opened(id_employee, id_shop)
        chat.operators.set_status(id_employee, id_shop, True)
        visitor = Visitor(id_shop=id_shop, id_lang=ps_db.ids["en"])
        with caplog.at_level(logging.ERROR, logger=plugins.__name__):
            posted = chat.conversations.post_customer(
                visitor, chat.conversations.issue_token(), client_id="c1", body="hello")
        opened = posted.event.id_conversation
        chat.conversations.end(opened, id_shop, by="operator", id_employee=id_employee)
        chat.operators.set_status(id_employee, id_shop, False)
    finally:
        state.stop_chat()
    assert chat.conversations.get(opened).status == "archived"
    assert recording.heard == [("opened", id_shop, opened), ("posted", opened, "hello"),
                               ("ended", opened, "operator"), ("archived", [opened])]
    assert [str(record.exc_info[1]) for record in caplog.records] == ["opened", "posted"]
    assert "plugin FailingEverywhere failed" in caplog.records[0].getMessage()


def test_wrong_action_calls_are_logged_not_raised(caplog):
    listening = Listening()
    pm = pluggy.PluginManager("psonlinechat")
    pm.add_hookspecs(psonlinechat.hookspecs)
    pm.register(listening)
    actions = plugins.actions_for(pm)
    with caplog.at_level(logging.ERROR, logger=plugins.__name__):
        actions("action_conversation_ended", id_shop=1, id_conversation=7)  # no "by"
        actions("action_no_such_thing", id_shop=1)
        actions("display_footer", context=None)
    assert listening.heard == []
    assert [record.getMessage().split("(")[0] for record in caplog.records] == [
        "psonlinechat: no action hook action_conversation_ended",
        "psonlinechat: no action hook action_no_such_thing",
        "psonlinechat: no action hook display_footer"]


def test_a_wrapped_action_hook_is_called_whole_and_guarded(caplog):
    listening = Listening()

    class Timing:
        @hookimpl(wrapper=True)
        def action_conversation_ended(self):
            yield
            raise RuntimeError("wrapper failed")

    pm = pluggy.PluginManager("psonlinechat")
    pm.add_hookspecs(psonlinechat.hookspecs)
    pm.register(listening)
    pm.register(Timing())
    with caplog.at_level(logging.ERROR, logger=plugins.__name__):
        plugins.actions_for(pm)("action_conversation_ended", id_shop=2, id_conversation=3,
                                by="customer")
    assert listening.heard == [(2, 3, "customer")]
    assert "wrapper failed" in str(caplog.records[0].exc_info[1])


# --- the public API ----------------------------------------------------------------------------

def test_the_public_api_is_sorted_and_importable():
    assert psonlinechat.__all__ == sorted(psonlinechat.__all__)
    for name in ("OnlineChat", "get_state", "hookimpl", "Visitor", "Employee", "RequestFacts",
                 "ConfigError", "PsOnlineChatError", "ShopError", "SettingsError"):
        assert name in psonlinechat.__all__
        assert getattr(psonlinechat, name) is not None
