"""The embedded demo shop without a browser: data folder, seeding, sign-in flows, CSRF, CLI.

The demo runs on SQLite in a temporary folder; its pages are driven with Flask's test
client on host 127.0.0.1, so the cookies are the ones a browser on the demo gets.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request

import pytest
import sqlalchemy as sa

from psonlinechat import ConfigError, get_state
from psonlinechat.console import main
from psonlinechat.demo import accounts, csrf
from psonlinechat.demo import shop as demo_shop
from psonlinechat.demo.app import create_app, credentials
from psonlinechat.demo.data import DataFolder
from psonlinechat.demo.shop import CUSTOMER, EMPLOYEE, PS_VERSION, SHOP_NAME
from psonlinechat.demo.storefront import safe_next
from psonlinechat.demo.texts import CATALOGUE, MESSAGES
from psonlinechat.mail import messages as mail
from psonlinechat.prestashop import cookies, passwords
from psonlinechat.shop.identity import ip2long
from psonlinechat.store import module

BASE = "http://127.0.0.1"
FRONT_COOKIE = cookies.cookie_name(PS_VERSION, "ps-s1", None)
ADMIN_COOKIE = cookies.cookie_name(PS_VERSION, "psAdmin", None)


@pytest.fixture
def client(demo):
    return demo.test_client()


def count(app, table_name: str, *where) -> int:
    t = get_state(app).tables
    with get_state(app).engine.connect() as conn:
        table = getattr(t, table_name)
        query = sa.select(sa.func.count()).select_from(table).where(*where)
        return conn.execute(query).scalar_one()


def form_token(client, path: str) -> str:
    html = client.get(path, base_url=BASE).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, path: str, email: str, password: str, token: str | None = None):
    token = form_token(client, path) if token is None else token
    return client.post(path, base_url=BASE,
                       data={"email": email, "password": password, "csrf_token": token})


def cookie_values(client, app, name: str) -> dict[str, str] | None:
    cookie = client.get_cookie(name, domain="127.0.0.1")
    if cookie is None:
        return None
    keys = app.extensions["psonlinechat_demo"].secrets.cookie_keys
    return cookies.decode(cookie.value, keys)


# --- data folder and seeding -----------------------------------------------------------

def test_data_folder_keeps_secrets_shaped_as_prestashop_makes_them(demo, tmp_path):
    path = tmp_path / "data" / "demo.json"
    stored = json.loads(path.read_text())
    assert len(cookies.load_key(stored["new_cookie_key"])) == 32
    assert re.fullmatch(r"[A-Za-z0-9]{32}", stored["cookie_iv"])
    assert re.fullmatch(r"[A-Za-z0-9]{64}", stored["cookie_key"])
    assert os.stat(path).st_mode & 0o077 == 0
    assert demo.config["PSONLINECHAT_NEW_COOKIE_KEY"] == stored["new_cookie_key"]
    assert demo.config["PSONLINECHAT_COOKIE_IV"] == stored["cookie_iv"]
    assert demo.config["PSONLINECHAT_COOKIE_KEY"] == stored["cookie_key"]
    assert (tmp_path / "data" / "shop.sqlite").is_file()
    assert (tmp_path / "data" / "outbox").is_dir()


def test_mail_goes_to_the_outbox_folder(demo, tmp_path):
    mailer = get_state(demo).mailer
    message = mail.build_message(sender="shop@demo-shop.test", to="merchant@demo-shop.test",
                                 subject_line="Hello", html="<p>Hi</p>", text="Hi")
    mailer.send(message)
    written = list((tmp_path / "data" / "outbox").glob("*.eml"))
    assert len(written) == 1 and b"Subject: Hello" in written[0].read_bytes()


def test_the_seeded_shop_is_a_small_real_shop(demo):
    t, engine = get_state(demo).tables, get_state(demo).engine
    customer, employee = credentials(demo)
    with engine.connect() as conn:
        shop = conn.execute(sa.select(t.shop)).one()
        url = conn.execute(sa.select(t.shop_url)).one()
        isos = conn.execute(sa.select(t.lang.c.iso_code).join(
            t.lang_shop, t.lang_shop.c.id_lang == t.lang.c.id_lang)).scalars().all()
        names = set(conn.execute(sa.select(t.configuration.c.name)).scalars())
        row = conn.execute(sa.select(t.customer).where(t.customer.c.email == CUSTOMER.email)).one()
        phone = conn.execute(sa.select(t.address.c.phone)
                             .where(t.address.c.id_customer == row.id_customer)).scalar_one()
        staff = conn.execute(sa.select(t.employee)).one()
        installed = module.is_installed(conn, t)
    assert (shop.name, url.domain, url.main) == (SHOP_NAME, "127.0.0.1", True)
    assert sorted(isos) == ["en", "fr"]
    assert {"PS_SHOP_NAME", "PS_SHOP_EMAIL", "PS_LANG_DEFAULT", "PS_SHOP_DEFAULT",
            "PS_VERSION_DB", "PS_TIMEZONE", "PS_MAIL_METHOD", "PS_COOKIE_CHECKIP",
            "PS_COOKIE_LIFETIME_FO", "PS_COOKIE_LIFETIME_BO", "PS_COOKIE_SAMESITE"} <= names
    assert any(name.startswith("PSONLINECHAT_") for name in names)
    assert installed
    assert row.passwd.startswith("$2y$10$")
    assert passwords.verify_password(customer.password, row.passwd)
    assert phone == demo_shop.CUSTOMER_PHONE
    assert staff.email == EMPLOYEE.email and staff.active
    assert passwords.verify_password(employee.password, staff.passwd)
    assert count(demo, "guest") == len(demo_shop.VISITORS)
    assert count(demo, "guest", t.guest.c.id_customer == row.id_customer) == 1


def test_seeding_twice_is_harmless(demo, tmp_path):
    tables = ("shop", "shop_url", "lang", "lang_shop", "configuration", "configuration_lang",
              "customer", "address", "employee", "guest")
    before = {name: count(demo, name) for name in tables}
    again = create_app(tmp_path / "data")
    try:
        assert {name: count(again, name) for name in tables} == before
        assert credentials(again) == credentials(demo)
    finally:
        get_state(again).engine.dispose()


def test_reset_starts_a_fresh_shop(demo, client, tmp_path):
    customer, _ = credentials(demo)
    assert sign_in(client, "/login", customer.email, customer.password).status_code == 302
    assert count(demo, "customer_session") == 1
    get_state(demo).engine.dispose()
    fresh = create_app(tmp_path / "data", reset=True)
    try:
        assert count(fresh, "customer_session") == 0
        assert credentials(fresh)[0].password != customer.password
    finally:
        get_state(fresh).engine.dispose()


def test_reset_removes_only_the_demos_own_files(tmp_path):
    folder = DataFolder(tmp_path)
    folder.prepare()
    (tmp_path / "notes.txt").write_text("mine")
    (folder.outbox_path / "old.eml").write_text("Subject: old")
    folder.prepare(reset=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (folder.outbox_path / "old.eml").exists()


def test_unreadable_secrets_are_refused_with_a_hint(tmp_path):
    (tmp_path / "demo.json").write_text("{not json")
    with pytest.raises(ConfigError, match="--reset"):
        DataFolder(tmp_path).prepare()
    (tmp_path / "demo.json").write_text(json.dumps({"cookie_iv": "x"}))
    with pytest.raises(ConfigError, match="--reset"):
        DataFolder(tmp_path).prepare()


def test_a_file_is_not_a_data_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot be used"):
        DataFolder(tmp_path / "file").prepare()


def test_every_message_is_in_every_language():
    assert set(MESSAGES["en"]) == set(MESSAGES["fr"])
    assert all(product.name("fr") != product.name("en") for product in CATALOGUE)
    assert CATALOGUE[0].price("en") == "€29.00" and CATALOGUE[0].price("fr") == "29,00\u00a0€"


# --- storefront ------------------------------------------------------------------------

def test_home_lists_products_and_offers_sign_in(client):
    html = client.get("/", base_url=BASE).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert all(product.name("en") in html for product in CATALOGUE)
    assert 'href="/login">Sign in</a>' in html


def test_language_switch_writes_id_lang_into_the_shop_cookie(demo, client):
    response = client.get("/language/fr?next=/login", base_url=BASE)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    values = cookie_values(client, demo, FRONT_COOKIE)
    fr = demo.extensions["psonlinechat_demo"].language_by_iso("fr").id_lang
    assert values["id_lang"] == str(fr) and "date_add" in values
    html = client.get("/", base_url=BASE).get_data(as_text=True)
    assert '<html lang="fr">' in html and "Connexion" in html
    assert client.get("/language/xx", base_url=BASE).status_code == 404


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)", "", None, "/\nSet-Cookie:x"])
def test_redirect_targets_stay_on_the_site(target):
    assert safe_next(target) == "/"


def test_customer_signs_in_with_a_real_prestashop_cookie(demo, client):
    customer, _ = credentials(demo)
    response = sign_in(client, "/login", customer.email.upper(), customer.password)
    assert response.status_code == 302
    values = cookie_values(client, demo, FRONT_COOKIE)
    t = get_state(demo).tables
    with get_state(demo).engine.connect() as conn:
        session = conn.execute(sa.select(t.customer_session)).one()
        row = conn.execute(sa.select(t.customer)).one()
        linked_guest = conn.execute(sa.select(t.guest.c.id_guest).where(
            t.guest.c.id_customer == row.id_customer)).scalar_one()
    assert values["id_customer"] == str(row.id_customer) and values["logged"] == "1"
    assert values["passwd"] == row.passwd and values["email"] == CUSTOMER.email
    assert (values["session_id"], values["session_token"]) == (
        str(session.id_customer_session), session.token)
    assert re.fullmatch(r"[0-9a-f]{40}", session.token)
    assert values["id_guest"] == str(linked_guest)
    html = client.get("/", base_url=BASE).get_data(as_text=True)
    assert "Hello, John DOE" in html and ">Sign out</button>" in html


def test_wrong_password_and_unknown_email_get_the_same_answer(demo, client):
    customer, _ = credentials(demo)
    wrong = sign_in(client, "/login", customer.email, customer.password + "x")
    unknown = sign_in(client, "/login", "nobody@example.test", customer.password)
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert response.status_code == 401
        assert 'role="alert"' in html and "Authentication failed" in html
    alerts = [re.search(r'role="alert"[^>]*>([^<]*)<', response.get_data(as_text=True)).group(1)
              for response in (wrong, unknown)]
    assert alerts[0] == alerts[1]
    assert count(demo, "customer_session") == 0
    assert client.get_cookie(FRONT_COOKIE, domain="127.0.0.1") is None


@pytest.mark.parametrize("email,password", [("", "x"), ("pub@prestashop.com", ""),
                                            ("not-an-email", "x"), ("a b@c.d", "x"),
                                            ("pub@prestashop.com", "x" * 73),
                                            ("x" * 250 + "@a.com", "x")])
def test_malformed_sign_in_is_refused_before_any_check(client, email, password):
    response = sign_in(client, "/login", email, password)
    assert response.status_code == 400
    assert "Please enter your email and your password." in response.get_data(as_text=True)


def test_legacy_md5_password_is_accepted_and_rehashed(demo, client):
    customer, _ = credentials(demo)
    t, engine = get_state(demo).tables, get_state(demo).engine
    cookie_key = demo.extensions["psonlinechat_demo"].secrets.cookie_key
    with engine.begin() as conn:
        conn.execute(sa.update(t.customer).values(
            passwd=passwords.legacy_hash(customer.password, cookie_key)))
    assert sign_in(client, "/login", customer.email, customer.password).status_code == 302
    with engine.connect() as conn:
        stored = conn.execute(sa.select(t.customer.c.passwd)).scalar_one()
    assert stored.startswith("$2y$") and passwords.verify_password(customer.password, stored)
    assert cookie_values(client, demo, FRONT_COOKIE)["passwd"] == stored


def test_a_banned_customer_cannot_sign_in(demo, client):
    customer, _ = credentials(demo)
    t = get_state(demo).tables
    with get_state(demo).engine.begin() as conn:
        conn.execute(sa.update(t.customer).values(active=False))
    assert sign_in(client, "/login", customer.email, customer.password).status_code == 401


@pytest.mark.parametrize("token", [None, "", "forged", "eyJ0ZXN0Ijp0cnVlfQ.abc.def"])
def test_posts_without_a_valid_csrf_token_are_refused(demo, client, token):
    customer, employee = credentials(demo)
    client.get("/login", base_url=BASE)
    data = {"email": customer.email, "password": customer.password}
    if token is not None:
        data["csrf_token"] = token
    assert client.post("/login", base_url=BASE, data=data).status_code == 400
    data.update(email=employee.email, password=employee.password)
    assert client.post("/admin-demo/login", base_url=BASE, data=data).status_code == 400
    assert count(demo, "customer_session") == 0 and count(demo, "employee_session") == 0


def test_a_token_from_another_browser_is_refused(demo, client):
    customer, _ = credentials(demo)
    other = demo.test_client()
    token = form_token(other, "/login")
    client.get("/login", base_url=BASE)
    assert sign_in(client, "/login", customer.email, customer.password, token).status_code == 400


def test_csrf_token_round_trip(demo):
    with demo.test_request_context("/"):
        token = csrf.token()
        assert csrf.is_valid(token)
        assert not csrf.is_valid(token[:-2] + "xx")
        assert not csrf.is_valid(None)


def test_sign_out_deletes_the_session_and_keeps_the_language(demo, client):
    customer, _ = credentials(demo)
    client.get("/language/fr", base_url=BASE)
    sign_in(client, "/login", customer.email, customer.password)
    token = form_token(client, "/")
    response = client.post("/logout", base_url=BASE, data={"csrf_token": token})
    assert response.status_code == 302
    values = cookie_values(client, demo, FRONT_COOKIE)
    assert "id_customer" not in values and "session_token" not in values
    french = demo.extensions["psonlinechat_demo"].language_by_iso("fr")
    assert values["id_lang"] == str(french.id_lang)
    assert count(demo, "customer_session") == 0
    html = client.get("/", base_url=BASE).get_data(as_text=True)
    assert "Vous êtes déconnecté." in html and "Connexion" in html


def test_sign_out_needs_a_token(demo, client):
    customer, _ = credentials(demo)
    sign_in(client, "/login", customer.email, customer.password)
    assert client.post("/logout", base_url=BASE).status_code == 400
    assert count(demo, "customer_session") == 1


# --- back office -----------------------------------------------------------------------

def test_back_office_sends_strangers_to_its_sign_in(client):
    response = client.get("/admin-demo/", base_url=BASE)
    assert response.status_code == 302 and response.headers["Location"] == "/admin-demo/login"


def test_employee_signs_in_with_a_real_psadmin_cookie(demo, client):
    _, employee = credentials(demo)
    response = sign_in(client, "/admin-demo/login", employee.email, employee.password)
    assert response.status_code == 302 and response.headers["Location"] == "/admin-demo/"
    values = cookie_values(client, demo, ADMIN_COOKIE)
    t = get_state(demo).tables
    with get_state(demo).engine.connect() as conn:
        session = conn.execute(sa.select(t.employee_session)).one()
        row = conn.execute(sa.select(t.employee)).one()
    assert {key: values[key] for key in ("id_employee", "email", "profile", "passwd",
                                         "remote_addr", "session_id", "session_token")} == {
        "id_employee": str(row.id_employee), "email": row.email, "profile": str(row.id_profile),
        "passwd": row.passwd, "remote_addr": str(ip2long("127.0.0.1")),
        "session_id": str(session.id_employee_session), "session_token": session.token}
    html = client.get("/admin-demo/", base_url=BASE).get_data(as_text=True)
    assert "Signed in as Camille Martin" in html and "<h1>Dashboard</h1>" in html


def test_employee_wrong_password_is_refused(demo, client):
    _, employee = credentials(demo)
    response = sign_in(client, "/admin-demo/login", employee.email, "wrong-password")
    assert response.status_code == 401 and 'role="alert"' in response.get_data(as_text=True)
    assert count(demo, "employee_session") == 0


def test_employee_session_revoked_in_the_database_signs_out(demo, client):
    _, employee = credentials(demo)
    sign_in(client, "/admin-demo/login", employee.email, employee.password)
    t = get_state(demo).tables
    with get_state(demo).engine.begin() as conn:
        conn.execute(sa.delete(t.employee_session))
    assert client.get("/admin-demo/", base_url=BASE).status_code == 302


def test_employee_sign_out(demo, client):
    _, employee = credentials(demo)
    sign_in(client, "/admin-demo/login", employee.email, employee.password)
    token = form_token(client, "/admin-demo/")
    response = client.post("/admin-demo/logout", base_url=BASE, data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin-demo/login"
    assert client.get_cookie(ADMIN_COOKIE, domain="127.0.0.1") is None
    assert count(demo, "employee_session") == 0
    assert client.get("/admin-demo/", base_url=BASE).status_code == 302


def test_accounts_validate_trims_the_email():
    assert accounts.validate("  ann@example.test ", "pw") == ("ann@example.test", "pw")


# --- the command -----------------------------------------------------------------------

@pytest.mark.slow  # a demo server in a subprocess
def test_command_prints_urls_and_credentials_then_serves(tmp_path):
    data = tmp_path / "cli-data"
    process = subprocess.Popen(
        [sys.executable, "-c", "from psonlinechat.console import main; main()", "demo",
         "--port", "0", "--data", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("  Employee:"):
                break
        output = "".join(lines)
        stored = json.loads((data / "demo.json").read_text())
        storefront = re.search(r"Storefront:\s+(http://127\.0\.0\.1:\d+/)", output).group(1)
        assert re.search(r"Back office:\s+http://127\.0\.0\.1:\d+/admin-demo/", output)
        assert f"{CUSTOMER.email}  password: {stored['customer_password']}" in output
        assert f"{EMPLOYEE.email}  password: {stored['employee_password']}" in output
        with urllib.request.urlopen(storefront, timeout=10) as response:
            assert response.status == 200 and b"Demo shop" in response.read()
    finally:
        process.terminate()
        remaining, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Demo shop stopped." in remaining


def test_command_explains_a_busy_port(tmp_path, runner):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(main, ["demo", "--port", str(port),
                                      "--data", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert f"Port {port} is in use" in result.output
    assert "Storefront:" not in result.output


def test_command_explains_a_bad_data_folder(tmp_path, runner):
    (tmp_path / "file").write_text("")
    result = runner.invoke(main, ["demo", "--port", "0", "--data", str(tmp_path / "file")])
    assert result.exit_code != 0
    assert "file" in result.output
