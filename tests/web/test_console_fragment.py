"""The operator console's fragments (displayBackOfficeHeader/Footer): who gets them, the state
they carry to console.js, and the console's catalogues."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import pathlib
import re

import pytest
import sqlalchemy as sa
import werkzeug.test
from babel.messages.pofile import read_po

from psonlinechat.web import translations
from psonlinechat.web.admin.console import DOMAIN
from psonlinechat.web.admin.strings import STRINGS
from psonlinechat.web.blueprint import views_path
from tests.support.chatclient import HOST, cookie_header

LANGUAGES = ("fr", "es", "de", "it")
PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")


def fragment(shop, hook, cookies=()):
    headers = {"Cookie": cookie_header(cookies)} if cookies else {}
    response = shop.app.test_client(use_cookies=False).get(
        f"/psonlinechat/hook/{hook}", base_url=f"http://{HOST}", headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.get_data(as_text=True)


def state_of(footer: str) -> dict:
    """The JSON the footer hands to console.js."""
    found = re.search(r'<script type="application/json" id="psonlinechat-console-state">'
                      r"(.*?)</script>", footer, re.S)
    assert found is not None, footer
    return json.loads(found.group(1))


@pytest.mark.parametrize("hook", ["displayBackOfficeHeader", "displayBackOfficeFooter"])
def test_nobody_signed_in_gets_nothing(shop, hook):
    assert fragment(shop, hook) == ""
    assert fragment(shop, hook, shop.anonymous()) == ""


def test_a_signed_in_employee_gets_the_console(shop):
    cookies = shop.employee(email="console@example.test")
    footer = fragment(shop, "displayBackOfficeFooter", cookies)
    assert '<h2 class="psoc-title" id="psoc-recap-title">Online Chat</h2>' in footer
    assert 'role="switch"' in footer and 'role="tablist"' in footer
    state = state_of(footer)
    (row,) = shop.query(sa.select(shop.db.tables.employee.c.id_employee).where(
        shop.db.tables.employee.c.email == "console@example.test"))
    assert state["id_employee"] == row.id_employee
    assert (state["v"], state["lang"], state["id_shop"]) == (1, "en", shop.id_shop)
    assert state["socket"] == "/psonlinechat/ws/operator"
    assert state["sounds"] is True and state["operator_name"] == shop.initial.operator_name
    assert state["strings"]["ongoing"] == "Ongoing conversations"
    assert set(state["strings"]) == set(STRINGS)
    digest = hashlib.sha256(pathlib.Path(views_path(), "js", "console.js").read_bytes()).hexdigest()
    assert state["assets"]["js"] == f"/psonlinechat/assets/js/console.js?v={digest[:12]}"
    assert f'<script src="{state["assets"]["js"]}" defer></script>' in footer
    header = fragment(shop, "displayBackOfficeHeader", cookies)
    assert header.strip() == (f'<link rel="stylesheet" href="{state["assets"]["css"]}" '
                              'data-psonlinechat="console">')


def test_the_assets_it_names_are_served(shop):
    state = state_of(fragment(shop, "displayBackOfficeFooter", shop.employee(email="a@e.test")))
    client = shop.app.test_client()
    for url in state["assets"].values():
        response = client.get(url, base_url=f"http://{HOST}")
        assert response.status_code == 200 and len(response.get_data()) > 1000
        response.close()


def test_an_employee_who_may_not_serve_the_shop_gets_nothing(shop):
    cookies = shop.employee(email="clerk@example.test", id_profile=2)
    assert fragment(shop, "displayBackOfficeFooter", cookies) == ""
    assert fragment(shop, "displayBackOfficeHeader", cookies) == ""
    t = shop.db.tables
    (row,) = shop.query(sa.select(t.employee.c.id_employee).where(
        t.employee.c.email == "clerk@example.test"))
    with shop.db.engine.begin() as conn:
        conn.execute(sa.insert(t.employee_shop).values(id_employee=row.id_employee,
                                                       id_shop=shop.id_shop))
    assert state_of(fragment(shop, "displayBackOfficeFooter", cookies))["id_employee"] == (
        row.id_employee)


def test_the_employees_language_is_used(shop):
    cookies = shop.employee(email="fr@example.test", id_lang=shop.db.ids["fr"])
    footer = fragment(shop, "displayBackOfficeFooter", cookies)
    assert 'lang="fr"' in footer and ">Chat en ligne</h2>" in footer
    state = state_of(footer)
    assert state["lang"] == "fr"
    assert state["strings"]["end"] == "Terminer la conversation"


def test_the_merchants_settings_reach_the_state_escaped(shop):
    name = "</script><script>alert(1)</script> & Co"
    shop.settings(operator_name=name, sounds=False)
    try:
        footer = fragment(shop, "displayBackOfficeFooter", shop.employee(email="esc@example.test"))
    finally:
        shop.settings(sounds=True)
    assert "<script>alert(1)" not in footer
    with shop.db.engine.connect() as conn:
        stored = shop.state.module_settings(conn, shop.id_shop).operator_name
    assert "&" in stored and stored not in footer  # its & is written \u0026 in the JSON
    state = state_of(footer)
    assert (state["operator_name"], state["sounds"]) == (stored, False)


# --- the console's catalogues --------------------------------------------------------------

def catalogue(iso):
    path = importlib.resources.files(translations.PACKAGE).joinpath(
        f"{iso}/LC_MESSAGES/{DOMAIN}.po")
    with path.open("rb") as po:
        return read_po(po, locale=iso, domain=DOMAIN, abort_invalid=True)


def test_every_language_is_shipped():
    shipped = translations.languages(DOMAIN)
    assert shipped[0] == "en" and set(LANGUAGES) <= set(shipped)


@pytest.mark.parametrize("iso", LANGUAGES)
def test_every_string_is_translated_with_its_placeholders(iso):
    parsed = catalogue(iso)
    assert dict(parsed.mime_headers)["Language"] == iso
    problems = []
    for msgid in STRINGS.values():
        message = parsed.get(msgid)
        if message is None or not (message.string or "").strip() or message.fuzzy:
            problems.append(f"untranslated: {msgid!r}")
        elif sorted(PLACEHOLDER.findall(message.string)) != sorted(PLACEHOLDER.findall(msgid)):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    stale = {m.id for m in parsed if m.id and m.id not in set(STRINGS.values())}
    assert problems == [] and stale == set()


def test_an_unknown_language_falls_back_to_english():
    assert translations.translate_all(STRINGS, "pt", DOMAIN) == STRINGS


def test_the_header_and_the_footer_of_one_page_ask_once(shop):
    cookies = shop.employee(email="once@example.test")
    environ = werkzeug.test.EnvironBuilder(
        "/admin/", base_url=f"http://{HOST}", headers={"Cookie": cookie_header(cookies)},
        environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    statements = []

    def count(conn, cursor, statement, *rest):
        statements.append(statement)

    sa.event.listen(shop.state.engine, "before_cursor_execute", count)
    try:
        assert "console.css" in shop.state.display("display_back_office_header", environ)
        asked = len(statements)
        assert "console.js" in shop.state.display("display_back_office_footer", environ)
    finally:
        sa.event.remove(shop.state.engine, "before_cursor_execute", count)
    assert asked > 0 and len(statements) == asked


def test_an_app_mounted_below_a_path_names_its_own_urls(shop):
    cookies = shop.employee(email="mounted@example.test")
    environ = werkzeug.test.EnvironBuilder(
        "/admin/", base_url=f"http://{HOST}/shop", headers={"Cookie": cookie_header(cookies)},
        environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    state = state_of(shop.state.display("display_back_office_footer", environ))
    assert state["socket"] == "/shop/psonlinechat/ws/operator"
    assert state["assets"]["js"].startswith("/shop/psonlinechat/assets/js/console.js?v=")
