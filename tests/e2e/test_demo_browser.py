"""The demo shop in a real headless Chromium against a real server, as a person uses it.

Elements are found by role and accessible name, as a screen reader finds them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from psonlinechat.demo.app import credentials

pytestmark = pytest.mark.slow


@pytest.fixture
def shop(demo, live_server):
    """The demo app (tests/conftest.py), served on 127.0.0.1: ``(app, url)``."""
    server = live_server(demo)
    yield demo, server.url
    server.stop()


def sign_in(page, email: str, password: str, button: str = "Sign in") -> None:
    page.get_by_label(re.compile("^(Email|E-mail)$")).fill(email)
    page.get_by_label(re.compile("^(Password|Mot de passe)$")).fill(password)
    page.get_by_role("button", name=button).click()


def test_storefront_in_english_switches_to_french(page, shop):
    _, url = shop
    page.goto(url + "/")
    expect(page.get_by_role("heading", level=1, name="New this season")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Mountain fox notebook")).to_be_visible()
    languages = page.get_by_role("navigation", name="Language")
    expect(languages.get_by_role("link", name="English")).to_have_attribute("aria-current", "true")
    languages.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", level=1, name="Nouveautés de la saison")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("link", name="Connexion")).to_be_visible()
    expect(page.get_by_role("heading", name="Carnet renard des montagnes")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Nouveautés de la saison")).to_be_visible()


def test_customer_signs_in_and_out(page, shop):
    app, url = shop
    customer, _ = credentials(app)
    page.goto(url + "/")
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Sign in to your account")).to_be_visible()
    sign_in(page, customer.email, customer.password)
    expect(page.get_by_text("Hello, John DOE")).to_be_visible()
    expect(page).to_have_url(url + "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Hello, John DOE")).to_have_count(0)


def test_wrong_password_shows_an_accessible_error(page, shop):
    app, url = shop
    customer, _ = credentials(app)
    page.goto(url + "/login")
    sign_in(page, customer.email, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Authentication failed")
    expect(page.get_by_label("Email")).to_have_value(customer.email)
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_customer_signs_in_in_french(page, shop):
    app, url = shop
    customer, _ = credentials(app)
    page.goto(url + "/language/fr?next=/login")
    heading = page.get_by_role("heading", level=1, name="Connectez-vous à votre compte")
    expect(heading).to_be_visible()
    sign_in(page, customer.email, customer.password, button="Connexion")
    expect(page.get_by_text("Bonjour, John DOE")).to_be_visible()
    expect(page.get_by_role("button", name="Déconnexion")).to_be_visible()


def test_back_office_needs_an_employee(page, shop):
    app, url = shop
    _, employee = credentials(app)
    page.goto(url + "/admin-demo/")
    expect(page).to_have_url(url + "/admin-demo/login")
    expect(page.get_by_role("heading", level=1, name="Back office: sign in")).to_be_visible()
    sign_in(page, employee.email, "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("Authentication failed")
    sign_in(page, employee.email, employee.password)
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Signed in as Camille Martin")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(url + "/admin-demo/login")
    page.goto(url + "/admin-demo/")
    expect(page).to_have_url(url + "/admin-demo/login")


def test_customer_and_employee_sessions_are_separate(page, shop):
    app, url = shop
    customer, employee = credentials(app)
    page.goto(url + "/admin-demo/login")
    sign_in(page, employee.email, employee.password)
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    page.goto(url + "/")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, customer.email, customer.password)
    expect(page.get_by_text("Hello, John DOE")).to_be_visible()
    page.goto(url + "/admin-demo/")
    expect(page.get_by_text("Signed in as Camille Martin")).to_be_visible()
