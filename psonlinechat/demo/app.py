"""The demo app: a small PrestaShop-like shop on SQLite with the module mounted on it.

:func:`create_app` prepares the data folder, creates PrestaShop's tables (only the ones
the module touches, from :mod:`psonlinechat.store.tables`), installs the module with the real
installer, seeds the shop once, and mounts the blueprint under ``/psonlinechat`` as a
shop's proxy would, next to a storefront and a back office of its own. The module's mail
goes to ``<data>/outbox`` (``state.mailer``, an :class:`OutboxMailer`). The shop's pages
get the hooks' fragments through :class:`~psonlinechat.web.inject.FragmentInjector`, as a
proxied shop would (the back office's, ``displayBackOffice*``).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import os
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from psonlinechat.demo import backoffice, csrf, shop, storefront
from psonlinechat.demo.context import EXTENSION_NAME, DemoShop, Language
from psonlinechat.demo.data import DataFolder, DemoSecrets
from psonlinechat.demo.shop_cookies import ShopCookies
from psonlinechat.mail.transports import OutboxMailer
from psonlinechat.shop import installer
from psonlinechat.store import configuration, demo_shop
from psonlinechat.store.tables import build
from psonlinechat.web.extension import OnlineChat, get_state
from psonlinechat.web.inject import FragmentInjector
from psonlinechat.web.state import ChatState

ADMIN_PATH = "/admin-demo"


@dataclasses.dataclass(frozen=True)
class Credentials:
    """An account of the demo and its password, to print on start."""

    email: str
    password: str
    name: str


def _resource(name: str) -> str:
    return str(importlib.resources.files("psonlinechat.demo") / name)


def config_for(folder: DataFolder, made: DemoSecrets) -> dict:
    """The Flask config of a demo on ``folder``: its database, cookie keys and secret key."""
    return {
        "SECRET_KEY": made.secret_key,
        "SESSION_COOKIE_NAME": "demo_session",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "PSONLINECHAT_DATABASE_URL": folder.database_url,
        "PSONLINECHAT_TABLE_PREFIX": "ps_",
        "PSONLINECHAT_NEW_COOKIE_KEY": made.new_cookie_key,
        "PSONLINECHAT_COOKIE_IV": made.cookie_iv,
        "PSONLINECHAT_COOKIE_KEY": made.cookie_key,
        "PSONLINECHAT_PRESTASHOP_VERSION": shop.PS_VERSION,
        "PSONLINECHAT_ADMIN_LOGIN_URL": ADMIN_PATH + "/login",
    }


def create_app(data: str | os.PathLike[str] = "demo-data", *, reset: bool = False,
               domain: str = "127.0.0.1", config: dict | None = None) -> Flask:
    """Make the demo shop's app on the data folder ``data``.

    :param reset: start from an empty shop (the folder's demo files are removed first).
    :param domain: the shop's host, for ``shop_url`` when the shop is first seeded.
    :param config: extra Flask config, applied last.
    :raises ConfigError: the data folder cannot be used.
    :raises ShopError: the database cannot be created or read.
    """
    folder = DataFolder(data)
    made = folder.prepare(reset=reset)
    app = Flask("psonlinechat.demo", template_folder=_resource("templates"),
                static_folder=_resource("static"), static_url_path="/demo-static")
    app.config.update(config_for(folder, made))
    app.config.update(config or {})
    OnlineChat(app)
    state = get_state(app)
    state.mailer = OutboxMailer(folder.outbox_path)
    _prepare_database(state.engine, domain, made)
    with state.engine.connect() as conn:
        app.extensions[EXTENSION_NAME] = _demo_shop(conn, state.tables, folder, made)
    app.jinja_env.globals["csrf_token"] = csrf.token
    app.register_blueprint(storefront.bp)
    app.register_blueprint(backoffice.bp)
    app.wsgi_app = FragmentInjector(  # type: ignore[method-assign]
        app.wsgi_app, app, back_office=_is_back_office, pages=_is_shop_page(state))
    return app


def _under(environ: dict, prefix: str) -> bool:
    """Whether a request's path is ``prefix`` or below it."""
    path = environ.get("PATH_INFO") or "/"
    return path == prefix or path.startswith(prefix + "/")


def _is_back_office(environ: dict) -> bool:
    """Whether a request is for the demo's back office."""
    return _under(environ, ADMIN_PATH)


def _is_shop_page(state: ChatState) -> Callable[[dict], bool]:
    """``fn(environ)``: whether a request is for one of the shop's own pages (not the
    module's, under its prefix), which get the hooks' fragments as a proxied shop would."""
    prefix = state.settings.url_prefix
    return lambda environ: not _under(environ, prefix)


def _prepare_database(engine: sa.Engine, domain: str, made: DemoSecrets) -> None:
    """Create PrestaShop's tables when missing, seed the shop once, install the module."""
    tables = build("ps_")
    tables.shop_metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        shop.seed_shop(conn, tables, domain=domain, customer_password=made.customer_password,
                       employee_password=made.employee_password)
    installer.install(engine, tables)


def _demo_shop(conn: sa.Connection, t, folder: DataFolder, made: DemoSecrets) -> DemoShop:
    ids = demo_shop.shop_ids(conn, t, shop.SHOP_NAME)
    if ids is None:
        raise RuntimeError(f"the demo database has no shop called {shop.SHOP_NAME!r}; "
                           "start again with --reset")
    id_shop, id_shop_group = ids
    values = configuration.get_many(conn, t, [
        "PS_LANG_DEFAULT", "PS_COOKIE_LIFETIME_FO", "PS_COOKIE_LIFETIME_BO",
        "PS_COOKIE_SAMESITE", "PS_TIMEZONE"], id_shop, id_shop_group)
    languages = tuple(Language(row.id_lang, row.iso_code, row.name)
                      for row in demo_shop.shop_languages(conn, t, id_shop))
    cookies = ShopCookies(
        keys=made.cookie_keys, version=shop.PS_VERSION, id_shop=id_shop,
        front_hours=_hours(values.get("PS_COOKIE_LIFETIME_FO")),
        admin_hours=_hours(values.get("PS_COOKIE_LIFETIME_BO")),
        samesite=str(values.get("PS_COOKIE_SAMESITE") or "Lax"),
        timezone=str(values.get("PS_TIMEZONE") or "Europe/Paris"))
    return DemoShop(id_shop=id_shop, id_shop_group=id_shop_group, name=shop.SHOP_NAME,
                    languages=languages, default_lang=int(values.get("PS_LANG_DEFAULT") or 1),
                    cookies=cookies, folder=folder, secrets=made)


def _hours(value) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 480


def credentials(app: Flask) -> tuple[Credentials, Credentials]:
    """The demo customer's and employee's email, password and name."""
    made = app.extensions[EXTENSION_NAME].secrets
    return (Credentials(shop.CUSTOMER.email, made.customer_password, shop.CUSTOMER.name),
            Credentials(shop.EMPLOYEE.email, made.employee_password, shop.EMPLOYEE.name))
