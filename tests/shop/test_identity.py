"""Visitors and employees recognised from the shop's own cookies, through real Flask requests."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest
import sqlalchemy as sa
from flask import Flask, jsonify, request

from psonlinechat import RequestFacts, ShopError, get_state, testing
from psonlinechat.prestashop import cookies
from psonlinechat.shop import directory as shop_context
from psonlinechat.shop import identity
from psonlinechat.store import seed, sessions
from psonlinechat.store.shops import Shop, ShopUrl
from tests.support import shopdb
from tests.support.apps import chat_app

HOST = shopdb.SHOP_DOMAIN  # 127.0.0.1: no cookie domain, as PrestaShop computes it
_emails = itertools.count()


def email() -> str:
    return f"person{next(_emails)}@example.test"


def make_app(db, keys, version: str | None = testing.DEFAULT_VERSION, **extra) -> Flask:
    app = chat_app(db, keys, version=version, **extra)

    @app.get("/whoami")
    def whoami():
        state = get_state()
        visitor = state.identify_visitor(request)
        employee = state.identify_employee(request)
        return jsonify(visitor=dataclasses.asdict(visitor),
                       employee=dataclasses.asdict(employee) if employee else None,
                       cached=state.identify_visitor(request) is visitor)

    return app


@pytest.fixture(scope="module")
def app(shop_db, keys):
    return make_app(shop_db, keys)


def ask(app, *cookie_pairs, headers=None, **kwargs) -> dict:
    all_headers = dict(headers or {})
    if cookie_pairs:  # a raw header: browsers' limits are what is under test, not the client's
        all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookie_pairs)
    response = app.test_client(use_cookies=False).get(
        "/whoami", base_url=f"http://{HOST}", headers=all_headers, **kwargs)
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def customer(shop_db):
    with shop_db.engine.begin() as conn:
        return testing.add_customer(conn, shop_db.tables, email=email(), firstname="Zoé",
                                    lastname="Müller")


def sign_in(db, keys, id_customer, id_lang=None, **kwargs):
    with db.engine.begin() as conn:
        return testing.sign_in_customer(conn, db.tables, keys, HOST, id_customer,
                                        id_lang or db.ids["fr"], **kwargs)


# --- customers ------------------------------------------------------------------------------

def test_signed_in_customer_is_recognised_once_per_request(app, shop_db, keys, customer):
    cookie = sign_in(shop_db, keys, customer, id_guest=17)
    answer = ask(app, cookie)
    with shop_db.engine.connect() as conn:
        stored_email = conn.execute(sa.select(shop_db.tables.customer.c.email).where(
            shop_db.tables.customer.c.id_customer == customer)).scalar_one()
    assert answer["visitor"] == {
        "id_shop": shop_db.ids["shop"], "id_lang": shop_db.ids["fr"], "id_customer": customer,
        "id_guest": 17, "firstname": "Zoé", "lastname": "Müller",
        "email": stored_email, "id_shop_group": shop_db.ids["shop_group"]}
    assert answer["cached"] is True
    assert answer["employee"] is None


def test_no_cookie_is_an_anonymous_visitor_in_the_default_language(app, shop_db):
    visitor = ask(app)["visitor"]
    assert visitor["id_customer"] is None
    assert visitor["id_lang"] == shop_db.ids["en"]
    assert visitor["id_shop"] == shop_db.ids["shop"]


def test_anonymous_cookie_gives_language_and_guest(app, shop_db, keys):
    cookie = testing.anonymous_cookie(keys, HOST, id_lang=shop_db.ids["fr"], id_guest=5)
    visitor = ask(app, cookie)["visitor"]
    assert (visitor["id_customer"], visitor["id_lang"], visitor["id_guest"]) == (
        None, shop_db.ids["fr"], 5)


def test_language_not_offered_or_inactive_falls_back_to_default(app, shop_db, keys):
    with shop_db.engine.begin() as conn:
        inactive = seed.add_lang(conn, shop_db.tables, "de", "Deutsch", [shop_db.ids["shop"]],
                                 active=False)
        elsewhere = seed.add_lang(conn, shop_db.tables, "it", "Italiano", [])
    for id_lang in (inactive, elsewhere, 9999):
        cookie = testing.anonymous_cookie(keys, HOST, id_lang=id_lang)
        assert ask(app, cookie)["visitor"]["id_lang"] == shop_db.ids["en"]


def test_deleted_session_row_signs_out(app, shop_db, keys, customer):
    cookie = sign_in(shop_db, keys, customer)
    assert ask(app, cookie)["visitor"]["id_customer"] == customer
    values = cookies.decode(cookie[1], keys)
    with shop_db.engine.begin() as conn:
        sessions.delete(conn, shop_db.tables, "customer", int(values["session_id"]))
    assert ask(app, cookie)["visitor"]["id_customer"] is None


def update_customer(db, id_customer, **values):
    with db.engine.begin() as conn:
        conn.execute(sa.update(db.tables.customer)
                     .where(db.tables.customer.c.id_customer == id_customer).values(**values))


@pytest.mark.parametrize("change", [
    {"passwd": "$2y$10$CssiRBJwsGiVIzGuSwQEJeLVgrj27u29oPxKQYR4SCdE7CNf6h6MS"},
    {"active": False},
    {"deleted": True},
    {"is_guest": True},
])
def test_account_changes_sign_out(app, shop_db, keys, customer, change):
    cookie = sign_in(shop_db, keys, customer)
    assert ask(app, cookie)["visitor"]["id_customer"] == customer
    update_customer(shop_db, customer, **change)
    assert ask(app, cookie)["visitor"]["id_customer"] is None


def test_deleted_account_signs_out(app, shop_db, keys, customer):
    cookie = sign_in(shop_db, keys, customer)
    with shop_db.engine.begin() as conn:
        conn.execute(sa.delete(shop_db.tables.customer)
                     .where(shop_db.tables.customer.c.id_customer == customer))
    assert ask(app, cookie)["visitor"]["id_customer"] is None


def test_guest_customers_count_only_when_allowed(app, shop_db, keys, customer):
    update_customer(shop_db, customer, is_guest=True)
    cookie = sign_in(shop_db, keys, customer)
    state = get_state(app)
    with app.test_request_context("/", base_url=f"http://{HOST}",
                                  headers={"Cookie": f"{cookie[0]}={cookie[1]}"}):
        facts = RequestFacts.of(request.environ)  # what the identify plugins receive
        assert identity.identify_visitor(state.shop, facts).id_customer is None
        assert identity.identify_visitor(state.shop, facts, allow_guests=True).id_customer == (
            customer)


@pytest.mark.parametrize("forged", [
    {"logged": 0}, {"logged": ""}, {"passwd": "x"}, {"passwd": ""},
    {"session_token": "0" * 40}, {"session_token": ""}, {"session_id": 999999},
])
def test_forged_fields_sign_nobody_in(app, shop_db, keys, customer, forged):
    cookie = sign_in(shop_db, keys, customer, extra=forged)
    assert ask(app, cookie)["visitor"]["id_customer"] is None


def test_another_customers_session_row_does_not_count(app, shop_db, keys, customer):
    with shop_db.engine.begin() as conn:
        other = testing.add_customer(conn, shop_db.tables, email=email())
        session_id, token = sessions.create(conn, shop_db.tables, "customer", other)
    cookie = sign_in(shop_db, keys, customer,
                     extra={"session_id": session_id, "session_token": token})
    assert ask(app, cookie)["visitor"]["id_customer"] is None


@pytest.mark.parametrize("value", [
    "", "zz", "def50200", "0" * 300, "déf5020077", "x" * 5000,
    "Mjc0NjU4ZDEyMzQ1Njc4OQ==MTIzNDU2Nzg5MDEy000040",  # 1.6-looking: base64 + length suffix
])
def test_garbage_cookie_values_are_anonymous(app, shop_db, keys, value):
    name = testing.front_cookie_name(HOST)
    visitor = ask(app, (name, value))["visitor"]
    assert visitor["id_customer"] is None and visitor["id_lang"] == shop_db.ids["en"]


def test_cookie_of_another_shop_key_is_anonymous(app, shop_db, customer):
    other_keys = testing.make_cookie_keys()
    cookie = sign_in(shop_db, other_keys, customer)
    assert ask(app, cookie)["visitor"]["id_customer"] is None


def test_back_office_cookie_is_not_a_customer(app, shop_db, keys):
    with shop_db.engine.begin() as conn:
        id_employee = testing.add_employee(conn, shop_db.tables, email=email())
        cookie = testing.sign_in_employee(conn, shop_db.tables, keys, HOST, id_employee)
    answer = ask(app, cookie)
    assert answer["visitor"]["id_customer"] is None
    assert answer["employee"]["id_employee"] == id_employee


def test_other_version_cookie_is_found_by_scanning(app, shop_db, keys, customer):
    cookie = sign_in(shop_db, keys, customer, version="9.0.0")
    assert cookie[0] != testing.front_cookie_name(HOST)
    assert ask(app, cookie)["visitor"]["id_customer"] == customer


def test_version_falls_back_to_ps_version_db(shop_db, keys, customer):
    app = make_app(shop_db, keys, version=None)
    cookie = sign_in(shop_db, keys, customer, version=shopdb.PS_VERSION)
    stale = testing.anonymous_cookie(keys, HOST, id_lang=shop_db.ids["en"], version="8.2.1")
    # The exactly named cookie wins: the stale one (another version) is not even tried.
    assert ask(app, stale, cookie)["visitor"]["id_customer"] == customer
    assert get_state(app).settings.prestashop_version is None


def test_named_host_uses_the_cookie_domain(shop_db, keys, customer):
    host = "shop.example.test"
    app = make_app(shop_db, keys)
    with shop_db.engine.begin() as conn:
        testing_cookie = testing.sign_in_customer(conn, shop_db.tables, keys, host, customer,
                                                  shop_db.ids["en"])
    assert testing_cookie[0] == cookies.cookie_name(testing.DEFAULT_VERSION, "ps-s1", host)
    answer = ask(app, testing_cookie, headers={"X-Forwarded-Host": host})
    assert answer["visitor"]["id_customer"] == customer


def test_customer_of_another_shop_is_not_signed_in(shop_db, keys):
    t = shop_db.tables
    with shop_db.engine.begin() as conn:
        other_shop = seed.add_shop(conn, t, shop_db.ids["shop_group"], "Other",
                                   domain="other.example.test")
        id_customer = testing.add_customer(conn, t, email=email(), id_shop=other_shop)
    app = make_app(shop_db, keys)
    cookie = sign_in(shop_db, keys, id_customer)
    try:
        assert ask(app, cookie)["visitor"]["id_customer"] is None
    finally:
        with shop_db.engine.begin() as conn:
            conn.execute(sa.delete(t.shop_url).where(t.shop_url.c.id_shop == other_shop))
            conn.execute(sa.delete(t.shop).where(t.shop.c.id_shop == other_shop))


# --- shop resolution ---------------------------------------------------------------------

def test_shop_resolution_prefers_the_longest_uri_then_the_port(mariadb, keys):
    db = shopdb.create("ps_")
    try:
        t = db.tables
        with db.engine.begin() as conn:
            second = seed.add_shop(conn, t, db.ids["shop_group"], "Second", domain=HOST,
                                   physical_uri="/second/")
            ported = seed.add_shop(conn, t, db.ids["shop_group"], "Ported",
                                   domain="Shop.test:8080")
        state = get_state(make_app(db, keys))
        snapshot = state.shop.directory.snapshot(state.shop)
        state.engine.dispose()
        assert snapshot.find_shop_id(HOST, "/second/chat") == second
        assert snapshot.find_shop_id(HOST, "/SECOND/chat") == second
        assert snapshot.find_shop_id(HOST, "/other") == db.ids["shop"]
        assert snapshot.find_shop_id(HOST + ":5000", "/x") == db.ids["shop"]
        assert snapshot.find_shop_id("shop.TEST:8080", "/") == ported  # hosts ignore case
        assert snapshot.find_shop_id("nowhere.test", "/") is None
        assert snapshot.resolve("nowhere.test", "/").id_shop == db.ids["shop"]  # PS_SHOP_DEFAULT
        assert snapshot.languages[db.ids["shop"]] == {db.ids["en"], db.ids["fr"]}
        assert second not in snapshot.languages
    finally:
        db.drop()


def test_snapshot_is_read_again_once_stale(shop_db, keys, employee):
    """A merchant's change (here PS_COOKIE_CHECKIP) counts once the snapshot is older than
    SNAPSHOT_SECONDS, not before; a revoked session counts at once."""
    app = make_app(shop_db, keys)
    now = [1000.0]
    get_state(app).shop.directory = shop_context.ShopDirectory(clock=lambda: now[0])
    elsewhere = admin_cookie(shop_db, keys, employee, remote_addr="10.9.8.7")
    assert ask(app, elsewhere)["employee"] is None
    set_config(shop_db, "PS_COOKIE_CHECKIP", "0")
    try:
        now[0] += shop_context.SNAPSHOT_SECONDS - 0.5
        assert ask(app, elsewhere)["employee"] is None
        now[0] += 0.5
        assert ask(app, elsewhere)["employee"]["id_employee"] == employee
        with shop_db.engine.begin() as conn:
            sessions.delete(conn, shop_db.tables, "employee",
                                     int(cookies.decode(elsewhere[1], keys)["session_id"]))
        assert ask(app, elsewhere)["employee"] is None
    finally:
        set_config(shop_db, "PS_COOKIE_CHECKIP", "1")


def test_an_unreachable_database_is_a_shop_error(shop_db, keys):
    app = make_app(shop_db, keys)
    state = get_state(app)
    assert state.tables  # detected while the database answered
    working = state.shop.engine
    state.shop.engine = sa.create_engine("mysql+pymysql://root@127.0.0.1:1/none?connect_timeout=2")
    try:
        with app.test_request_context("/", base_url=f"http://{HOST}"):
            with pytest.raises(ShopError, match="cannot reach"):
                identity.identify_visitor(state.shop, request)
            with pytest.raises(ShopError, match="cannot reach"):
                identity.identify_employee(state.shop, request)
    finally:
        state.shop.engine.dispose()
        state.shop.engine = working


def snapshot_of(*urls: ShopUrl, shops: tuple[Shop, ...]) -> shop_context.Snapshot:
    return shop_context.Snapshot({shop.id_shop: shop for shop in shops}, list(urls), {}, {}, 0.0)


def test_shared_urls_follow_config_inc():
    alone = Shop(1, 1, share_customer=False, share_order=False)
    same = snapshot_of(ShopUrl(1, "www.a.test", "www.a.test", "/", True, True), shops=(alone,))
    assert same.shared_urls(alone) == ()
    split = snapshot_of(ShopUrl(1, "www.a.test", "secure.a.test", "/", True, True),
                        ShopUrl(1, "old.a.test", "old.a.test", "/", False, True), shops=(alone,))
    assert split.shared_urls(alone) == ("secure.a.test", "www.a.test")
    assert split.hosts(alone, "chat.a.test") == (
        "chat.a.test", "secure.a.test", "www.a.test", "old.a.test")
    # Shop::getUrlsSharedCart: the domain (not domain_ssl) of every main, active URL.
    one, two = Shop(1, 5, False, True), Shop(2, 5, False, True)
    other = Shop(3, 6, False, True)
    group = snapshot_of(ShopUrl(1, "www.a.test", "ssl.a.test", "/", True, True),
                        ShopUrl(1, "alias.a.test", "alias.a.test", "/", False, True),
                        ShopUrl(2, "www.b.test", "www.b.test", "/", True, True),
                        ShopUrl(2, "off.b.test", "off.b.test", "/x/", True, False),
                        ShopUrl(3, "www.c.test", "www.c.test", "/", True, True),
                        shops=(one, two, other))
    assert group.shared_urls(two) == ("www.a.test", "www.b.test")


# --- employees -------------------------------------------------------------------------------

@pytest.fixture
def employee(shop_db):
    with shop_db.engine.begin() as conn:
        return testing.add_employee(conn, shop_db.tables, email=email(), firstname="Eve",
                                    id_lang=shop_db.ids["fr"], id_profile=2)


def admin_cookie(db, keys, id_employee, **kwargs):
    with db.engine.begin() as conn:
        return testing.sign_in_employee(conn, db.tables, keys, HOST, id_employee, **kwargs)


def test_employee_is_recognised(app, shop_db, keys, employee):
    answer = ask(app, admin_cookie(shop_db, keys, employee))
    assert answer["employee"]["id_employee"] == employee
    assert answer["employee"]["firstname"] == "Eve"
    assert (answer["employee"]["id_lang"], answer["employee"]["id_profile"]) == (
        shop_db.ids["fr"], 2)
    assert answer["visitor"]["id_customer"] is None


def update_employee(db, id_employee, **values):
    with db.engine.begin() as conn:
        conn.execute(sa.update(db.tables.employee)
                     .where(db.tables.employee.c.id_employee == id_employee).values(**values))


@pytest.mark.parametrize("change", [{"active": False}, {"passwd": "changed"}])
def test_employee_account_changes_sign_out(app, shop_db, keys, employee, change):
    cookie = admin_cookie(shop_db, keys, employee)
    assert ask(app, cookie)["employee"] is not None
    update_employee(shop_db, employee, **change)
    assert ask(app, cookie)["employee"] is None


def test_employee_session_deleted_signs_out(app, shop_db, keys, employee):
    cookie = admin_cookie(shop_db, keys, employee)
    with shop_db.engine.begin() as conn:
        sessions.delete(conn, shop_db.tables, "employee",
                                 int(cookies.decode(cookie[1], keys)["session_id"]))
    assert ask(app, cookie)["employee"] is None


def test_check_ip_binds_the_session_to_the_login_address(app, shop_db, keys, employee):
    cookie = admin_cookie(shop_db, keys, employee, remote_addr="10.9.8.7")
    assert ask(app, cookie)["employee"] is None  # the test client comes from 127.0.0.1
    # Behind a local proxy, the first X-Forwarded-For entry is the client.
    forwarded = {"X-Forwarded-For": "10.9.8.7, 203.0.113.9"}
    assert ask(app, cookie, headers=forwarded)["employee"]["id_employee"] == employee
    # A public REMOTE_ADDR is the client whatever X-Forwarded-For says.
    public = ask(app, cookie, headers=forwarded, environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert public["employee"] is None


def set_config(db, name, value):
    t = db.tables
    with db.engine.begin() as conn:
        conn.execute(sa.update(t.configuration).where(t.configuration.c.name == name)
                     .values(value=value))


def test_check_ip_off_or_no_remote_addr_accepts_any_address(shop_db, keys, employee):
    no_addr = admin_cookie(shop_db, keys, employee, remote_addr=None)
    assert ask(make_app(shop_db, keys), no_addr)["employee"]["id_employee"] == employee
    elsewhere = admin_cookie(shop_db, keys, employee, remote_addr="10.9.8.7")
    set_config(shop_db, "PS_COOKIE_CHECKIP", "0")
    try:
        assert ask(make_app(shop_db, keys), elsewhere)["employee"]["id_employee"] == employee
    finally:
        set_config(shop_db, "PS_COOKIE_CHECKIP", "1")


@pytest.mark.parametrize("version", ["8.2.1", "1.7.8.10"])
def test_last_activity_older_than_an_hour_signs_out(shop_db, keys, employee, version):
    app = make_app(shop_db, keys, version=version)
    cookie = admin_cookie(shop_db, keys, employee, last_activity=1_000_000, version=version)
    state = get_state(app)
    state.shop.clock = lambda: 1_000_000 + 3600
    assert ask(app, cookie)["employee"]["id_employee"] == employee
    state.shop.clock = lambda: 1_000_000 + 3601
    assert ask(app, cookie)["employee"] is None


def test_last_activity_is_ignored_from_prestashop_9(app, shop_db, keys, employee):
    cookie = admin_cookie(shop_db, keys, employee, last_activity=1_000_000)
    state = get_state(app)
    state.shop.clock = lambda: 1_000_000 + 86_400
    try:
        assert ask(app, cookie)["employee"]["id_employee"] == employee
    finally:
        state.shop.clock = time.time


def test_storefront_cookie_is_not_an_employee(app, shop_db, keys, customer):
    answer = ask(app, sign_in(shop_db, keys, customer, extra={"profile": 1}))
    assert answer["employee"] is None
    assert answer["visitor"]["id_customer"] == customer


def test_no_keys_means_nobody_is_recognised(shop_db, keys, customer, employee):
    app = chat_app(shop_db)

    @app.get("/whoami")
    def whoami():
        state = get_state()
        return jsonify(customer=state.identify_visitor(request).id_customer,
                       employee=state.identify_employee(request))

    cookie = sign_in(shop_db, keys, customer)
    other = admin_cookie(shop_db, keys, employee)
    answer = ask(app, cookie, other)
    assert answer == {"customer": None, "employee": None}


# --- the 1.7.8 schema: session tables without dates ----------------------------------------

def test_178_schema_without_session_dates(mariadb):
    db = shopdb.create("ps_")
    try:
        with shopdb.raw_connect(db.name) as conn, conn.cursor() as cur:
            for table in ("ps_customer_session", "ps_employee_session"):
                cur.execute(f"ALTER TABLE `{table}` DROP COLUMN date_add, DROP COLUMN date_upd")
        keys = testing.make_cookie_keys()
        app = make_app(db, keys, version="1.7.8.10")
        t = get_state(app).tables
        assert t.features.session_dates is False
        with db.engine.begin() as conn:
            id_customer = testing.add_customer(conn, t, email=email())
            id_employee = testing.add_employee(conn, t, email=email())
            front = testing.sign_in_customer(conn, t, keys, HOST, id_customer, db.ids["en"],
                                             version="1.7.8.10")
            back = testing.sign_in_employee(conn, t, keys, HOST, id_employee, version="1.7.8.10")
        answer = ask(app, front, back)
        assert answer["visitor"]["id_customer"] == id_customer
        assert answer["employee"]["id_employee"] == id_employee
    finally:
        db.drop()


# --- pure helpers --------------------------------------------------------------------------

@pytest.mark.parametrize(("remote", "forwarded", "expected"), [
    ("127.0.0.1", "1.2.3.4, 5.6.7.8", "1.2.3.4"),
    ("10.0.0.2", "1.2.3.4", "1.2.3.4"),
    ("172.20.0.1", " 1.2.3.4 ", "1.2.3.4"),
    ("192.168.1.1", "1.2.3.4", "1.2.3.4"),
    ("8.8.8.8", "1.2.3.4", "8.8.8.8"),
    ("172.32.0.1", "1.2.3.4", "172.32.0.1"),
    ("127.0.0.1", "", "127.0.0.1"),
    ("", "1.2.3.4", "1.2.3.4"),
])
def test_client_ip_follows_tools_get_remote_addr(remote, forwarded, expected):
    assert identity.client_ip(remote, forwarded) == expected


@pytest.mark.parametrize(("ip", "expected"), [
    ("127.0.0.1", 2130706433), ("255.255.255.255", 4294967295), ("::1", 0), ("nonsense", 0),
    (None, 0),
])
def test_ip2long(ip, expected):
    assert identity.ip2long(ip) == expected
