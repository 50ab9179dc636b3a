"""Who is there: the visitor of a storefront request and the employee of a back-office one.

The default sources read the shop's own cookies (see :mod:`psonlinechat.prestashop.cookies`)
and apply PrestaShop's own checks (FACTS §3.6–3.7): a customer is signed in only when the
storefront cookie says ``logged``, its ``passwd`` equals the account's hash, its session row
is alive and the account is active and not deleted; an employee only when the ``psAdmin``
cookie's session row, password hash, active flag, IP binding and ``last_activity`` hold.
Anything else is an anonymous visitor, or no employee: a cookie is untrusted input and never
causes an error. Database failures do propagate.

A host app plugs another source of identity through the seam on :class:`~psonlinechat.OnlineChat`.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .prestashop import cookies
from .repositories import configuration, customers, employees, shops

if TYPE_CHECKING:
    from .extension import ChatState
    from .settings import Settings
    from .tables import Tables

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
    when ``REMOTE_ADDR`` is missing, loopback or private, else ``REMOTE_ADDR``.
    """
    remote = (remote_addr or "").strip()
    if forwarded_for and forwarded_for.strip() and (
            not remote or _PROXY_ADDR_RE.match(remote) or remote == "::1"):
        return forwarded_for.split(",")[0].strip()
    return remote


def _int(value: Any) -> int:
    """PHP's (int) cast of a cookie string: leading digits, else 0."""
    match = re.match(r"^\s*([+-]?\d+)", str(value or ""))
    return int(match.group(1)) if match else 0


def _same(secret: str | None, stored: str | None) -> bool:
    """Strict equality in constant time; empty or missing never matches."""
    if not secret or not stored:
        return False
    return hmac.compare_digest(str(secret).encode("utf-8"), str(stored).encode("utf-8"))


def _plain(values: Mapping[str, Any]) -> dict[str, str]:
    """The plain (not multilingual) values of a configuration read."""
    return {name: value for name, value in values.items() if isinstance(value, str)}


def request_uri(request: Any) -> str:
    """The decoded path PrestaShop matches shop URLs against."""
    return urllib.parse.unquote((request.script_root or "") + (request.path or "/"))


# --- the shop and its cookies --------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ShopContext:
    """What one request needs to know about its shop to read cookies."""

    shop: shops.Shop
    host: str
    version: str | None
    config: Mapping[str, str]
    #: The request host, then the shop's own URL hosts (the bridge may run on another host).
    hosts: tuple[str, ...]
    shared_urls: tuple[str, ...]

    def cookie_names(self, logical_name: str, shared: bool) -> list[str]:
        """The full cookie names ``logical_name`` may have; none when the version is unknown."""
        if not self.version:
            return []
        domains = dict.fromkeys(cookies.cookie_domain(host, self.shared_urls if shared else ())
                                for host in self.hosts)
        return [cookies.cookie_name(self.version, logical_name, domain) for domain in domains]


_CONFIG_KEYS = ("PS_SHOP_DEFAULT", "PS_VERSION_DB", "PS_LANG_DEFAULT", "PS_COOKIE_CHECKIP")


def shop_context(conn: sa.Connection, t: Tables, settings: Settings, request: Any) -> ShopContext | None:
    """Resolve the request's shop (shop_url by host and path, else PS_SHOP_DEFAULT) and the
    cookie domains worth trying: the request host's and the shop's own URLs'.
    """
    host = cookies.request_host(request.headers)
    id_shop = shops.find_shop_id(conn, t, host, request_uri(request))
    global_config = _plain(configuration.get_many(conn, t, _CONFIG_KEYS))
    shop = None
    if id_shop is not None:
        shop = shops.get_shop(conn, t, id_shop)
    if shop is None:
        default = _int(global_config.get("PS_SHOP_DEFAULT"))
        shop = shops.get_shop(conn, t, default) if default else None
    if shop is None:
        first = shops.first_shop_id(conn, t)
        shop = shops.get_shop(conn, t, first) if first is not None else None
    if shop is None:
        return None
    config = _plain(configuration.get_many(conn, t, _CONFIG_KEYS, shop.id_shop,
                                           shop.id_shop_group))
    urls = shops.shop_urls(conn, t, [shop.id_shop])
    if shop.share_order:
        group_urls = shops.shop_urls(conn, t, shops.group_shop_ids(conn, t, shop.id_shop_group))
        shared = tuple(dict.fromkeys(d for domain, ssl, _ in group_urls for d in (domain, ssl)))
    else:
        shared = tuple(dict.fromkeys(
            d for domain, ssl, _ in urls[:1] if domain != ssl for d in (ssl, domain)))
    hosts = tuple(dict.fromkeys(h for h in [host] + [d for domain, ssl, _ in urls
                                                     for d in (ssl, domain)] if h))
    version = settings.prestashop_version or global_config.get("PS_VERSION_DB") or None
    return ShopContext(shop, host, version, config, hosts, shared)


def _decoded_cookies(request: Any, keys: cookies.CookieKeys, context: ShopContext,
                     names: list[str], back_office: bool) -> list[dict[str, str]]:
    """Decode the request's cookies named ``names`` (every ``PrestaShop-*`` cookie when
    none of them is present), keeping those of the wanted kind.
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


# --- visitors ------------------------------------------------------------------------------

def _signed_in_customer(conn: sa.Connection, t: Tables, values: Mapping[str, str],
                        shop: shops.Shop, allow_guests: bool) -> Any:
    id_customer = _int(values.get("id_customer"))
    if id_customer <= 0 or _int(values.get("logged")) != 1:
        return None
    row = customers.get_customer(conn, t, id_customer)
    if row is None or not _same(values.get("passwd"), row.passwd):
        return None
    if not row.active or row.deleted or (row.is_guest and not allow_guests):
        return None
    if not (int(row.id_shop) == shop.id_shop
            or (shop.share_customer and int(row.id_shop_group) == shop.id_shop_group)):
        return None
    if t.features.sessions:
        session = customers.get_session(conn, t, _int(values.get("session_id")))
        if (session is None or not _same(values.get("session_token"), session.token)
                or session.id_customer is None or int(session.id_customer) != id_customer):
            return None
    return row


def identify_visitor(state: ChatState, request: Any, *, allow_guests: bool = False) -> Visitor:
    """The visitor of a storefront request, from the shop's storefront cookie.

    The shop comes from the host and path; the language from the cookie's ``id_lang`` when
    the shop offers it and it is active, else PS_LANG_DEFAULT. Guest-checkout customers
    (``is_guest``) count as signed in only with ``allow_guests``. Session rows are read, not
    refreshed (PrestaShop 8+ refreshes ``date_upd`` on its own page views).

    :raises ShopError: the database is unreachable or has no shop at all.
    """
    from .errors import ShopError

    t = state.tables
    keys = cookie_keys(state.settings)
    with state.engine.connect() as conn:
        context = shop_context(conn, t, state.settings, request)
        if context is None:
            raise ShopError("the shop's database has no active shop")
        shop = context.shop
        logical = cookies.front_cookie_name(shop.id_shop, shop.id_shop_group, shop.share_order)
        found = _decoded_cookies(request, keys, context, context.cookie_names(logical, True),
                                 False) if keys else []
        customer, chosen = None, found[0] if found else {}
        for values in found:
            customer = _signed_in_customer(conn, t, values, shop, allow_guests)
            if customer is not None:
                chosen = values
                break
        id_lang = _int(chosen.get("id_lang"))
        if id_lang <= 0 or not shops.offers_language(conn, t, shop.id_shop, id_lang):
            id_lang = _int(context.config.get("PS_LANG_DEFAULT")) or 1
    id_guest = _int(chosen.get("id_guest")) or None
    if customer is None:
        return Visitor(id_shop=shop.id_shop, id_lang=id_lang, id_guest=id_guest,
                       id_shop_group=shop.id_shop_group)
    return Visitor(id_shop=shop.id_shop, id_lang=id_lang, id_customer=int(customer.id_customer),
                   id_guest=id_guest, firstname=customer.firstname, lastname=customer.lastname,
                   email=customer.email, id_shop_group=shop.id_shop_group)


# --- employees -----------------------------------------------------------------------------

def _employee(conn: sa.Connection, t: Tables, values: Mapping[str, str], context: ShopContext,
              ip: str, now: float) -> Employee | None:
    id_employee = _int(values.get("id_employee"))
    if id_employee <= 0:
        return None
    if t.features.sessions:
        session = employees.get_session(conn, t, _int(values.get("session_id")))
        if (session is None or not _same(values.get("session_token"), session.token)
                or session.id_employee is None or int(session.id_employee) != id_employee):
            return None
    row = employees.get_employee(conn, t, id_employee)
    if row is None or not row.active or not _same(values.get("passwd"), row.passwd):
        return None
    if "remote_addr" in values and configuration.as_bool(context.config.get("PS_COOKIE_CHECKIP")):
        if _int(values["remote_addr"]) != ip2long(ip):
            return None
    if "last_activity" in values and _int(values["last_activity"]) + AUTH_COOKIE_LIFETIME < now:
        return None
    return Employee(id_employee=id_employee, firstname=row.firstname, lastname=row.lastname,
                    email=row.email, id_lang=int(row.id_lang), id_profile=int(row.id_profile))


def identify_employee(state: ChatState, request: Any, *,
                      clock: Callable[[], float] = time.time) -> Employee | None:
    """The employee of a request, from the shop's ``psAdmin`` cookie; ``None`` otherwise.

    :param clock: returns the Unix time ``last_activity`` is compared with.
    :raises ShopError: the database is unreachable.
    """
    keys = cookie_keys(state.settings)
    if keys is None:
        return None
    t = state.tables
    ip = client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"))
    with state.engine.connect() as conn:
        context = shop_context(conn, t, state.settings, request)
        if context is None:
            return None
        names = context.cookie_names(cookies.ADMIN_COOKIE, False)
        for values in _decoded_cookies(request, keys, context, names, True):
            employee = _employee(conn, t, values, context, ip, clock())
            if employee is not None:
                return employee
    return None
