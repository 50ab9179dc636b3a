"""The demo writes the shop's cookies exactly as PrestaShop does, so that the module reads
them through its real path.

The storefront cookie is ``ps-s<id_shop>``, the back-office one ``psAdmin``; each is sent
as ``PrestaShop-md5(version + name + domain)``, encrypted with ``new_cookie_key``, with
its checksum salted by ``cookie_iv`` (FACTS §3). On 127.0.0.1 the domain part is empty
and the cookie is host-only, as on a real shop reached by IP.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Mapping

from psonlinechat.prestashop import cookies


@dataclasses.dataclass(frozen=True)
class ShopCookies:
    """How one shop names, reads and writes its two cookies.

    :param keys: the shop's cookie keys.
    :param version: the shop's ``_PS_VERSION_``.
    :param id_shop: the shop whose storefront cookie this is.
    :param front_hours: PS_COOKIE_LIFETIME_FO.
    :param admin_hours: PS_COOKIE_LIFETIME_BO.
    :param samesite: PS_COOKIE_SAMESITE.
    :param timezone: PS_TIMEZONE, for the cookie's ``date_add``.
    """

    keys: cookies.CookieKeys
    version: str
    id_shop: int
    front_hours: int = 480
    admin_hours: int = 480
    samesite: str = "Lax"
    timezone: str = "Europe/Paris"

    def _name(self, logical: str, headers: Mapping[str, str]) -> tuple[str, str | None]:
        domain = cookies.cookie_domain(cookies.request_host(headers))
        return cookies.cookie_name(self.version, logical, domain), domain

    def _read(self, logical: str, request) -> dict[str, str]:
        name, _ = self._name(logical, request.headers)
        value = request.cookies.get(name)
        return (cookies.decode(value, self.keys) or {}) if value else {}

    def _write(self, logical: str, request, response, values: Mapping[str, object],
               hours: int) -> None:
        name, domain = self._name(logical, request.headers)
        content = {"date_add": self.now(), **values}
        cookies.set_cookie(response, name, cookies.encode(content, self.keys), domain=domain,
                           samesite=self.samesite, lifetime_hours=hours)

    def _delete(self, logical: str, request, response) -> None:
        name, domain = self._name(logical, request.headers)
        response.delete_cookie(name, path="/", domain=domain, httponly=True,
                               samesite=self.samesite)

    def now(self) -> str:
        """The shop's local time as PrestaShop writes it in cookies (``Y-m-d H:i:s``)."""
        return dt.datetime.now(zoneinfo.ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def front_logical_name(self) -> str:
        return cookies.front_cookie_name(self.id_shop)

    def read_front(self, request) -> dict[str, str]:
        """The storefront cookie's pairs (empty when absent or not authentic)."""
        return self._read(self.front_logical_name, request)

    def write_front(self, request, response, values: Mapping[str, object]) -> None:
        """Send the storefront cookie with ``values`` (``date_add`` kept or added first)."""
        self._write(self.front_logical_name, request, response, values, self.front_hours)

    def read_admin(self, request) -> dict[str, str]:
        """The back-office cookie's pairs (empty when absent or not authentic)."""
        return self._read(cookies.ADMIN_COOKIE, request)

    def write_admin(self, request, response, values: Mapping[str, object]) -> None:
        """Send the ``psAdmin`` cookie with ``values``."""
        self._write(cookies.ADMIN_COOKIE, request, response, values, self.admin_hours)

    def delete_admin(self, request, response) -> None:
        """Expire the ``psAdmin`` cookie (a full logout)."""
        self._delete(cookies.ADMIN_COOKIE, request, response)
