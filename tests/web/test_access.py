"""Edges: views only employees may use, and the seam through which a host app plugs identity."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify, request

from psonlinechat import OnlineChat, get_state
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.web import access
from tests.support import shopdb
from tests.support.apps import chat_app

HOST = shopdb.SHOP_DOMAIN


def make_app(db, keys, chat: OnlineChat | None = None, **extra) -> Flask:
    app = chat_app(db, keys, chat=chat, **extra)

    @app.get("/page")
    @access.employee_required
    def page():
        return f"hello {access.current_employee().firstname}"

    @app.get("/api")
    @access.employee_required(api=True)
    def api():
        return jsonify(id_employee=access.current_employee().id_employee)

    @app.get("/socket")
    def socket():
        employee = access.require_employee("socket")
        return jsonify(id_employee=employee.id_employee)

    @app.get("/visitor")
    def visitor():
        return jsonify(id_customer=access.current_visitor().id_customer)

    return app


def get(app, path, cookie=None, headers=None, **kwargs):
    headers = dict(headers or {})
    if cookie:
        headers["Cookie"] = f"{cookie[0]}={cookie[1]}"
    return app.test_client(use_cookies=False).get(path, base_url=f"http://{HOST}",
                                                   headers=headers, **kwargs)


@pytest.fixture(scope="module")
def employee_cookie(ps_db, keys):
    return ps_db.signed_in_employee(keys, email="access@example.test", firstname="Eve")


def test_employee_passes_every_edge(ps_db, keys, employee_cookie):
    id_employee, cookie = employee_cookie
    app = make_app(ps_db, keys)
    assert get(app, "/page", cookie).get_data(as_text=True) == "hello Eve"
    assert get(app, "/api", cookie).get_json() == {"id_employee": id_employee}
    assert get(app, "/socket", cookie).get_json() == {"id_employee": id_employee}


def test_page_redirects_to_the_back_office_login(ps_db, keys):
    app = make_app(ps_db, keys, PSONLINECHAT_ADMIN_LOGIN_URL="https://shop.test/admin123/")
    response = get(app, "/page")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://shop.test/admin123/"


def test_page_without_login_url_is_a_401_page(ps_db, keys):
    response = get(make_app(ps_db, keys), "/page")
    assert response.status_code == 401
    assert response.mimetype == "text/html"
    assert "<h1>Sign-in required</h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api", "/socket"])
def test_api_and_socket_get_401_json(ps_db, keys, path):
    app = make_app(ps_db, keys, PSONLINECHAT_ADMIN_LOGIN_URL="https://shop.test/admin123/")
    response = get(app, path)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_socket_refused_before_the_upgrade(ps_db, keys, employee_cookie):
    from flask_sock import Sock

    app = make_app(ps_db, keys)
    sock = Sock(app)
    upgraded = []

    @sock.route("/ws")
    def ws(socket):
        upgraded.append(access.current_employee())

    access.guard_sockets(app, "ws")
    handshake = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    response = get(app, "/ws", headers=handshake)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert "Sec-WebSocket-Accept" not in response.headers
    assert upgraded == []


def test_visitor_cookie_is_not_an_employee(ps_db, keys):
    id_customer, cookie = ps_db.signed_in_customer(keys, email="not-staff@example.test")
    app = make_app(ps_db, keys)
    assert get(app, "/visitor", cookie).get_json() == {"id_customer": id_customer}
    assert get(app, "/api", cookie).status_code == 401


# --- the seam --------------------------------------------------------------------------------

def test_loaders_given_to_the_constructor_replace_cookies(ps_db, keys, employee_cookie):
    calls = []

    def load_visitor(req):
        calls.append(req.path)
        return Visitor(id_shop=1, id_lang=1, id_customer=int(req.headers.get("X-Customer", 0)))

    def load_employee(req):
        return None

    chat = OnlineChat(identify_visitor=load_visitor, identify_employee=load_employee)
    app = make_app(ps_db, keys, chat)
    assert get(app, "/visitor", headers={"X-Customer": "77"}).get_json() == {"id_customer": 77}
    assert calls == ["/visitor"]
    # The host's loader says nobody: even a genuine psAdmin cookie is not enough.
    assert get(app, "/api", employee_cookie[1]).status_code == 401


def test_decorated_loaders_and_falling_back_to_cookies(ps_db, keys, employee_cookie):
    from psonlinechat.shop import identity

    chat = OnlineChat()

    @chat.employee_loader
    def load_employee(req):
        if req.headers.get("X-Staff") == "robot":
            return Employee(id_employee=999, firstname="Robo", lastname="T", email="r@t",
                            id_lang=1, id_profile=1)
        return identity.identify_employee(get_state().shop, req)

    @chat.visitor_loader
    def load_visitor(req):
        return Visitor(id_shop=1, id_lang=2)

    app = make_app(ps_db, keys, chat)
    assert get(app, "/page", headers={"X-Staff": "robot"}).get_data(as_text=True) == "hello Robo"
    assert get(app, "/page", employee_cookie[1]).get_data(as_text=True) == "hello Eve"
    assert get(app, "/page").status_code == 401
    with app.test_request_context("/", base_url=f"http://{HOST}"):
        assert get_state(app).identify_visitor(request) == Visitor(id_shop=1, id_lang=2)


def test_identity_is_computed_once_per_request(ps_db, keys):
    calls = []
    chat = OnlineChat()

    @chat.visitor_loader
    def load_visitor(req):
        calls.append(1)
        return Visitor(id_shop=1, id_lang=1)

    app = make_app(ps_db, keys, chat)
    with app.test_request_context("/"):
        state = get_state(app)
        assert state.identify_visitor(request) is state.identify_visitor(request)
    with app.test_request_context("/"):
        state.identify_visitor(request)
    assert len(calls) == 2
