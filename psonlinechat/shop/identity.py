"""Who is there: the visitor of a storefront request and the employee of a back-office one.

The default sources read the shop's own cookies (see :mod:`psonlinechat.prestashop.cookies`)
and apply PrestaShop's own checks (FACTS §3.6–3.7): a customer is signed in only when the
storefront cookie says ``logged``, its ``passwd`` equals the account's hash, its session row
is alive and the account is active and not deleted; an employee only when the ``psAdmin``
cookie's session row, password hash, active flag, IP binding and (before PrestaShop 9)
``last_activity`` hold. Anything else is an anonymous visitor, or no employee: a cookie is
untrusted input and never causes an error. An unreachable database raises ShopError.

Everything here works from :class:`~psonlinechat.shop.request_facts.RequestFacts` (or
anything with the same attributes, such as a Flask request), never from Flask itself.

Cost: the request's shop comes from :mod:`psonlinechat.shop.directory`'s snapshot (no query);
a cookie naming an account costs one query (the account joined with its session row).

These functions are the default ``identify_*`` plugin; a host app plugs another source of
identity through the plugin contract or the seam on :class:`~psonlinechat.OnlineChat`.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from psonlinechat.config import Settings
from psonlinechat.errors import ShopError
from psonlinechat.prestashop import cookies
from psonlinechat.prestashop.php import php_int
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.directory import ShopContext
from psonlinechat.store import configuration, customers, employees

#: Seconds after which PrestaShop 1.7.8/8.x drops a ``psAdmin`` cookie that has
#: ``last_activity`` (AdminController::AUTH_COOKIE_LIFETIME).
AUTH_COOKIE_LIFETIME = 3600


@dataclasses.dataclass(frozen=True)
class Visitor:
    """A storefront visitor: a signed-in customer, or anonymous.

    :param id_shop: the shop the request is for.
    :param id_lang: the visitor's language.
    :param id_customer: the signed-in customer, ``None`` when anonymous.
    :param id_guest: the shop cookie's ``id_guest``, when it has one.
    :param id_shop_group: the group of ``id_shop``.
    """

    id_shop: int
    id_lang: int
    id_customer: int | None = None
    id_guest: int | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    id_shop_group: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.id_customer is not None


@dataclasses.dataclass(frozen=True)
class Employee:
    """A back-office employee whose session the shop vouches for."""

    id_employee: int
    firstname: str
    lastname: str
    email: str
    id_lang: int
    id_profile: int


# --- small pure helpers --------------------------------------------------------------------

def cookie_keys(settings: Settings) -> cookies.CookieKeys | None:
    """The shop's cookie secrets from the settings, or ``None`` when any is missing."""
    if not settings.new_cookie_key or settings.cookie_iv is None:
        return None
    return cookies.CookieKeys(settings.new_cookie_key, settings.cookie_iv,
                              settings.cookie_key or "")


def ip2long(ip: str | None) -> int:
    """PHP's ip2long for a dotted IPv4 address (unsigned); 0 for IPv6 or anything else."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return 0
    return int(address) if address.version == 4 else 0


_PROXY_ADDR_RE = re.compile(r"^(?:127\.|172\.(?:1[6-9]|2\d|30|31)\.|192\.168|10\.)")


def client_ip(remote_addr: str | None, forwarded_for: str | None) -> str:
    """The client IP as Tools::getRemoteAddr gives it: the first ``X-Forwarded-For`` entry
    when ``REMOTE_ADDR`` is missing, loopback (``127.*``, and ``::1``) or private, else
    ``REMOTE_ADDR``.
    """
    remote = (remote_addr or "").strip()
    if forwarded_for and forwarded_for.strip() and (
            not remote or _PROXY_ADDR_RE.match(remote) or remote == "::1"):
        return forwarded_for.split(",")[0].strip()
    return remote


def _same(secret: str | None, stored: str | None) -> bool:
    """Strict equality in constant time; empty or missing never matches."""
    if not secret or not stored:
        return False
    return hmac.compare_digest(str(secret).encode("utf-8"), str(stored).encode("utf-8"))


def _session_alive(values: Mapping[str, str], row: Any, id_owner: int) -> bool:
    """Cookie::isSessionAlive: the cookie's session row exists, belongs to ``id_owner`` and
    its token is the cookie's ``session_token``."""
    return (row.session_owner is not None and int(row.session_owner) == id_owner
            and _same(values.get("session_token"), row.session_token))


def _decoded_cookies(request: Any, keys: cookies.CookieKeys, context: ShopContext,
                     names: list[str], back_office: bool) -> list[dict[str, str]]:
    """Decode the request's cookies named ``names`` (every ``PrestaShop-*`` cookie, at most
    16, when none of them is present), keeping those of the wanted kind.
    """
    try:
        raw_key = cookies.load_key(keys.new_cookie_key)
    except cookies.CookieKeyError:
        return []
    found = []
    algorithms = cookies.algorithms_for(context.version)
    for _, value in cookies.candidates(request.cookies, names):
        values = cookies.decode(value, keys, algorithms, raw_key=raw_key)
        if values is not None and cookies.is_back_office(values) == back_office:
            found.append(values)
    return found


def request_uri(request: Any) -> str:
    """The decoded path PrestaShop matches shop URLs against."""
    return urllib.parse.unquote((request.script_root or "") + (request.path or "/"))


def shop_context(db: ShopDatabase, request: Any) -> ShopContext | None:
    """The request's shop and the cookie names worth trying; ``None`` when there is no
    active shop.

    :raises ShopError: the database is unreachable.
    """
    snapshot = db.directory.snapshot(db)
    version = db.settings.prestashop_version or snapshot.global_config.get("PS_VERSION_DB")
    host = cookies.request_host(request.headers, version)
    shop = snapshot.resolve(host, request_uri(request))
    if shop is None:
        return None
    return ShopContext(shop, host, version or None, db.directory.shop_config(db, snapshot, shop),
                       snapshot.hosts(shop, host), snapshot.shared_urls(shop),
                       snapshot.languages.get(shop.id_shop, frozenset()))


# --- visitors ------------------------------------------------------------------------------

def _signed_in_customer(db: ShopDatabase, values: Mapping[str, str], context: ShopContext,
                        allow_guests: bool) -> Any:
    """The customer row the cookie vouches for (FACTS §3.6), or ``None``."""
    id_customer = php_int(values.get("id_customer"))
    if id_customer <= 0 or php_int(values.get("logged")) != 1:
        return None
    t = db.tables
    with db.connect() as conn:
        row = customers.get_signed_in(conn, t, id_customer, php_int(values.get("session_id")))
    if row is None or not _same(values.get("passwd"), row.passwd):
        return None
    if not row.active or row.deleted or (row.is_guest and not allow_guests):
        return None
    shop = context.shop
    if not (int(row.id_shop) == shop.id_shop
            or (shop.share_customer and int(row.id_shop_group) == shop.id_shop_group)):
        return None
    if t.features.sessions and not _session_alive(values, row, id_customer):
        return None
    return row


def identify_visitor(db: ShopDatabase, request: Any, *, allow_guests: bool = False) -> Visitor:
    """The visitor of a storefront request, from the shop's storefront cookie.

    The shop comes from the host and path; the language from the cookie's ``id_lang`` when
    the shop offers it and it is active, else PS_LANG_DEFAULT. Guest-checkout customers
    (``is_guest``) count as signed in only with ``allow_guests``. Session rows are read, not
    refreshed (PrestaShop 8+ refreshes ``date_upd`` on its own page views).

    :raises ShopError: the database is unreachable or has no active shop at all.
    """
    context = shop_context(db, request)
    if context is None:
        raise ShopError("the shop's database has no active shop")
    shop, keys = context.shop, cookie_keys(db.settings)
    logical = cookies.front_cookie_name(shop.id_shop, shop.id_shop_group, shop.share_order)
    found = _decoded_cookies(request, keys, context, context.cookie_names(logical, True),
                             False) if keys else []
    customer, chosen = None, found[0] if found else {}
    for values in found:
        customer = _signed_in_customer(db, values, context, allow_guests)
        if customer is not None:
            chosen = values
            break
    id_lang = context.language(php_int(chosen.get("id_lang")))
    id_guest = php_int(chosen.get("id_guest")) or None
    if customer is None:
        return Visitor(id_shop=shop.id_shop, id_lang=id_lang, id_guest=id_guest,
                       id_shop_group=shop.id_shop_group)
    return Visitor(id_shop=shop.id_shop, id_lang=id_lang, id_customer=int(customer.id_customer),
                   id_guest=id_guest, firstname=customer.firstname, lastname=customer.lastname,
                   email=customer.email, id_shop_group=shop.id_shop_group)


# --- employees -----------------------------------------------------------------------------

def _employee(db: ShopDatabase, values: Mapping[str, str], context: ShopContext, ip: str,
              now: float) -> Employee | None:
    """The employee the ``psAdmin`` cookie vouches for (FACTS §3.7), or ``None``."""
    id_employee = php_int(values.get("id_employee"))
    if id_employee <= 0:
        return None
    t = db.tables
    with db.connect() as conn:
        row = employees.get_signed_in(conn, t, id_employee, php_int(values.get("session_id")))
    if row is None or not row.active or not _same(values.get("passwd"), row.passwd):
        return None
    if t.features.sessions and not _session_alive(values, row, id_employee):
        return None
    if ("remote_addr" in values
            and configuration.as_bool(context.config.get("PS_COOKIE_CHECKIP"))
            and php_int(values["remote_addr"]) != ip2long(ip)):
        return None
    # AdminController's one-hour limit; PrestaShop 9 no longer writes or reads the field.
    if (not cookies.is_version_9(context.version) and "last_activity" in values
            and php_int(values["last_activity"]) + AUTH_COOKIE_LIFETIME < now):
        return None
    return Employee(id_employee=id_employee, firstname=row.firstname, lastname=row.lastname,
                    email=row.email, id_lang=int(row.id_lang), id_profile=int(row.id_profile))


def identify_employee(db: ShopDatabase, request: Any) -> Employee | None:
    """The employee of a request, from the shop's ``psAdmin`` cookie; ``None`` otherwise.
    ``last_activity`` is compared with ``db.clock()``.
    :raises ShopError: the database is unreachable.
    """
    keys = cookie_keys(db.settings)
    if keys is None:
        return None
    context = shop_context(db, request)
    if context is None:
        return None
    ip = client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"))
    names = context.cookie_names(cookies.ADMIN_COOKIE, False)
    for values in _decoded_cookies(request, keys, context, names, True):
        employee = _employee(db, values, context, ip, db.clock())
        if employee is not None:
            return employee
    return None
