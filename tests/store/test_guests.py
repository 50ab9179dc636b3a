"""Guest rows as Guest::setNewGuest writes them: language, operating system, browser, link."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from psonlinechat import testing
from psonlinechat.store import guests

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/126.0 Safari/537.36")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
              "Gecko) Version/17.5 Safari/605.1.15")


@pytest.fixture(scope="module")
def db(shop_db):
    with shop_db.engine.begin() as conn:
        guests.seed_names(conn, shop_db.tables)
        guests.seed_names(conn, shop_db.tables)  # idempotent
    return shop_db


def guest_row(db, id_guest):
    t = db.tables
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(t.guest).where(t.guest.c.id_guest == id_guest)).one()
        os_name = conn.execute(sa.select(t.operating_system.c.name).where(
            t.operating_system.c.id_operating_system == row.id_operating_system)).scalar()
        browser = conn.execute(sa.select(t.web_browser.c.name).where(
            t.web_browser.c.id_web_browser == row.id_web_browser)).scalar()
    return row, os_name, browser


def create(db, **kwargs):
    with db.engine.begin() as conn:
        return guests.create_guest(conn, db.tables, **kwargs)


@pytest.mark.parametrize(("agent", "os_name", "browser"), [
    (CHROME_WINDOWS, "Windows 10", "Chrome"),
    (FIREFOX_LINUX, "Linux", "Firefox"),
    (SAFARI_MAC, "MacOsX", "Safari"),
    ("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)", "Windows 7", "IE 8"),
    ("Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko", "Windows 8.1", "IE 11"),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "MacOsX", "Safari"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0 Mobile Safari/537.36", "Android", "Chrome"),
    ("Mozilla/5.0 (compatible; Bot; NT 5.1)", None, None),  # "Windows NT 5", not just "NT 5"
    ("curl/8.5.0", None, None),
    (None, None, None),
])
def test_anonymous_guest_gets_a_new_row_with_os_and_browser(db, agent, os_name, browser):
    id_guest = create(db, id_customer=None, user_agent=agent, accept_language="fr-FR,fr;q=0.9")
    row, found_os, found_browser = guest_row(db, id_guest)
    assert (found_os, found_browser) == (os_name, browser)
    assert row.id_customer is None and row.accept_language == "fr"
    assert row.mobile_theme == 0


def test_each_anonymous_conversation_gets_its_own_guest(db):
    first = create(db, id_customer=None, user_agent=FIREFOX_LINUX, accept_language=None)
    second = create(db, id_customer=None, user_agent=FIREFOX_LINUX, accept_language=None)
    assert first != second
    assert guest_row(db, first)[0].accept_language == ""


def test_signed_in_customer_reuses_the_linked_guest_row(db):
    with db.engine.begin() as conn:
        id_customer = testing.add_customer(conn, db.tables, email="guest-link@example.test")
    first = create(db, id_customer=id_customer, user_agent=CHROME_WINDOWS, accept_language="en")
    row, os_name, browser = guest_row(db, first)
    assert (row.id_customer, os_name, browser, row.accept_language) == (
        id_customer, "Windows 10", "Chrome", "en")
    again = create(db, id_customer=id_customer, user_agent=FIREFOX_LINUX, accept_language="fr")
    assert again == first
    # setNewGuest saves the reused row with this request's browser, system and language.
    row, os_name, browser = guest_row(db, first)
    assert (row.id_customer, os_name, browser, row.accept_language) == (
        id_customer, "Linux", "Firefox", "fr")


# Expected values are what Guest::getLanguage returns for the same header.
@pytest.mark.parametrize(("header", "tag"), [
    ("fr-ch, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr-ch"),
    ("fr-FR,fr;q=0.9", "fr"),               # case-sensitive: "-FR" is not part of the tag
    ("en;q=0.5, de;q=0.9", "de"),
    ("en-us;q=0.8, en-gb;q=0.8", "en-us"),  # equal weights: the first listed
    ("en;q=0.2, fr;q=0.5, en", "en"),       # a repeated tag keeps its place, takes its last q
    ("en, fr;q=0.5, en;q=0.1", "fr"),
    ("EN", ""),
    ("", ""),
    ("*", ""),
    (None, ""),
])
def test_accept_language_tag(header, tag):
    assert guests.accept_language_tag(header) == tag
