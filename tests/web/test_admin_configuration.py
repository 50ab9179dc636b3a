"""The Configuration page over HTTP on MariaDB: the multistore levels (all shops, a group,
one shop) read and written as PrestaShop's own pages do, who may use the tab, and CSRF."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from psonlinechat import get_state
from psonlinechat.shop import installer
from psonlinechat.store import configuration, seed
from tests.support import shopdb
from tests.support.apps import chat_app, closed_after_test

HOST = shopdb.SHOP_DOMAIN
PAGE = "/psonlinechat/admin/configuration"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def multistore(mariadb, keys):
    """Three shops: 1 and 2 in the first group, 3 in a second group; multistore on."""
    db = shopdb.create("ps_")
    installer.install(db.engine, db.tables)
    t = db.tables
    with db.engine.begin() as conn:
        db.ids["shop2"] = seed.add_shop(conn, t, db.ids["shop_group"], "Second", "two.test")
        db.ids["group2"] = seed.add_shop_group(conn, t, "Outlet")
        db.ids["shop3"] = seed.add_shop(conn, t, db.ids["group2"], "Outlet shop", "three.test")
        configuration.update_value(conn, t, configuration.MULTISHOP_KEY, "1")
    yield db
    db.drop()


@pytest.fixture
def app(multistore, keys):
    return closed_after_test(chat_app(multistore, keys))


def employee(db, keys, email: str, *, profile: int = 1, shops: tuple[int, ...] = ()):
    id_employee, cookie = db.signed_in_employee(keys, email=email, id_profile=profile)
    with db.engine.begin() as conn:
        for id_shop in shops:
            conn.execute(sa.insert(db.tables.employee_shop).values(
                id_employee=id_employee, id_shop=id_shop))
    return {"Cookie": f"{cookie[0]}={cookie[1]}"}


@pytest.fixture(scope="module")
def admin(multistore, keys):
    return employee(multistore, keys, "super@example.test")


def get(app, headers, path=PAGE, **params):
    return app.test_client(use_cookies=False).get(path, base_url=f"http://{HOST}",
                                                  headers=headers, query_string=params)


def form(db, token: str, context: str, **changes) -> dict:
    en, fr = db.ids["en"], db.ids["fr"]
    values = {"csrf_token": token, "shop_context": context, "operator_name": "Desk",
              "sounds": ["0", "1"], "max_chats": "10", "offline_mode": ["0", "1"],
              "notify_email": "desk@example.test", f"header_text[{en}]": "Hello",
              f"header_text[{fr}]": "Bonjour", f"welcome_text[{en}]": "Welcome",
              f"welcome_text[{fr}]": "Bienvenue", "offline_requested[message]": "1",
              "offline_required[message]": "1", "offline_required[email]": "1"}
    for name in ("header", "operator", "customer", "offline_header"):
        values[f"{name}_background"], values[f"{name}_color"] = "#222222", "#ffffff"
    values.update(changes)
    return values


def save(app, db, headers, context: str, **changes):
    token = TOKEN_RE.search(get(app, headers, shop_context=context).get_data(as_text=True))
    assert token, "the page has no CSRF token"
    return app.test_client(use_cookies=False).post(
        PAGE, base_url=f"http://{HOST}", headers={**headers, "Origin": f"http://{HOST}"},
        data=form(db, token.group(1), context, **changes))


def settings_of(app, db, id_shop: int):
    state = get_state(app)
    with db.engine.connect() as conn:
        return state.shop.settings_store.get(conn, db.tables, id_shop)


def test_a_super_admin_is_offered_every_level(app, multistore, admin):
    html = get(app, admin).get_data(as_text=True)
    options = re.findall(r'<option value="([^"]*)"', html)
    ids = multistore.ids
    assert options == ["", f"g-{ids['shop_group']}", f"s-{ids['shop']}", f"s-{ids['shop2']}",
                       f"g-{ids['group2']}", f"s-{ids['shop3']}"]


def test_each_level_is_read_and_written_where_prestashop_would(app, multistore, admin):
    ids = multistore.ids
    assert save(app, multistore, admin, "", operator_name="Everyone").status_code == 303
    assert save(app, multistore, admin, f"g-{ids['group2']}",
                operator_name="Outlet desk").status_code == 303
    assert save(app, multistore, admin, f"s-{ids['shop2']}", operator_name="Second desk",
                max_chats="4").status_code == 303
    assert settings_of(app, multistore, ids["shop"]).operator_name == "Everyone"
    assert settings_of(app, multistore, ids["shop2"]).operator_name == "Second desk"
    assert settings_of(app, multistore, ids["shop2"]).max_chats == 4
    assert settings_of(app, multistore, ids["shop3"]).operator_name == "Outlet desk"
    c = multistore.tables.configuration
    with multistore.engine.connect() as conn:
        rows = conn.execute(sa.select(c.c.id_shop_group, c.c.id_shop, c.c.value).where(
            c.c.name == "PSONLINECHAT_OPERATOR_NAME").order_by(c.c.id_configuration)).all()
    assert {(r.id_shop_group, r.id_shop, r.value) for r in rows} >= {
        (None, None, "Everyone"), (ids["group2"], None, "Outlet desk"),
        (ids["shop_group"], ids["shop2"], "Second desk")}
    page = get(app, admin, shop_context=f"s-{ids['shop2']}").get_data(as_text=True)
    assert 'value="Second desk"' in page and "the shop Second" in page
    page = get(app, admin, shop_context=f"g-{ids['group2']}").get_data(as_text=True)
    assert 'value="Outlet desk"' in page


def test_an_invalid_value_saves_nothing_and_is_said_at_the_field(app, multistore, admin):
    before = settings_of(app, multistore, multistore.ids["shop"])
    response = save(app, multistore, admin, "", operator_name="Changed", max_chats="0",
                    notify_email="not an address")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-max_chats"' in html and 'id="err-notify_email"' in html
    assert 'value="Changed"' in html and 'value="0"' in html
    assert settings_of(app, multistore, multistore.ids["shop"]) == before


def test_an_employee_sees_only_the_shops_they_serve(app, multistore, keys):
    ids = multistore.ids
    clerk = employee(multistore, keys, "clerk@example.test", profile=4, shops=(ids["shop3"],))
    html = get(app, clerk, shop_context=f"s-{ids['shop']}").get_data(as_text=True)
    # the group is wholly theirs; "all shops" and the first group's shop are not
    assert re.findall(r'<option value="([^"]*)"', html) == [f"g-{ids['group2']}",
                                                            f"s-{ids['shop3']}"]
    assert "the shops of the group Outlet" in html
    assert save(app, multistore, clerk, "", operator_name="Clerk").status_code == 303
    assert settings_of(app, multistore, ids["shop3"]).operator_name == "Clerk"
    assert settings_of(app, multistore, ids["shop"]).operator_name != "Clerk"


def test_who_may_not_use_the_tab(app, multistore, keys):
    assert get(app, {}).status_code == 401
    nobody = employee(multistore, keys, "noshop@example.test", profile=4)
    assert get(app, nobody).status_code == 403
    assert get(app, nobody, "/psonlinechat/admin/history").status_code == 403


def test_changes_need_the_employees_own_token_from_the_same_origin(app, multistore, admin,
                                                                   keys):
    other = employee(multistore, keys, "other@example.test")
    token = TOKEN_RE.search(get(app, other).get_data(as_text=True)).group(1)
    client = app.test_client(use_cookies=False)
    base = {"base_url": f"http://{HOST}"}
    for headers, data in [
        (admin, form(multistore, "", "")),  # no token
        (admin, form(multistore, token, "")),  # another employee's token
        ({**other, "Origin": "https://evil.test"}, form(multistore, token, "")),
        ({**other, "Sec-Fetch-Site": "cross-site"}, form(multistore, token, "")),
    ]:
        assert client.post(PAGE, headers=headers, data=data, **base).status_code == 403
    assert client.post(PAGE, headers=other, data=form(multistore, token, ""),
                       **base).status_code == 303
    proxied = {**other, "Origin": "https://shop.example", "X-Forwarded-Host": "shop.example"}
    assert client.post(PAGE, headers=proxied, data=form(multistore, token, ""),
                       **base).status_code == 303
    assert client.post("/psonlinechat/admin/history/delete", headers=admin,
                       data={"lines": "c1", "confirmed": "1"}, **base).status_code == 403


def test_a_french_employee_gets_the_tab_in_french(app, multistore, keys):
    id_employee, cookie = multistore.signed_in_employee(keys, email="julie@example.test",
                                                        id_lang=multistore.ids["fr"])
    html = get(app, {"Cookie": f"{cookie[0]}={cookie[1]}"}).get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert ">Enregistrer</button>" in html and ">Historique des conversations</a>" in html
    assert "Toutes les boutiques" in html
