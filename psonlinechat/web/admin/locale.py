"""The employee's language on the back-office pages: strings from the ``admin`` Babel
catalogue, dates and times in the shop's time zone (``PS_TIMEZONE``) written the way the
employee's locale writes them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from psonlinechat.shop.identity import Employee
from psonlinechat.store import shop_tree
from psonlinechat.store.tables import Tables
from psonlinechat.web import translations

DOMAIN = "admin"


@dataclasses.dataclass(frozen=True)
class AdminLocale:
    """What the pages of one employee's request are written in."""

    iso: str
    zone: zoneinfo.ZoneInfo

    def gettext(self, message: str, **values: object) -> str:
        """``message`` in the employee's language, ``%(name)s`` filled from ``values``."""
        text = translations.translations(self.iso, DOMAIN).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The singular or plural form for ``n`` (``%(num)d`` is ``n``)."""
        text = translations.translations(self.iso, DOMAIN).ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def datetime(self, when: dt.datetime | None) -> str:
        """A naive UTC datetime as the shop's local date and time in the employee's locale."""
        if when is None:
            return ""
        local = when.replace(tzinfo=dt.UTC).astimezone(self.zone)
        return format_datetime(local, format="medium", locale=self._babel_locale())

    def iso_datetime(self, when: dt.datetime | None) -> str:
        """The same instant as ISO 8601 in the shop's time zone (``datetime`` attributes)."""
        if when is None:
            return ""
        return when.replace(tzinfo=dt.UTC).astimezone(self.zone).isoformat(
            timespec="seconds")

    def _babel_locale(self) -> Locale:
        try:
            return Locale.parse(self.iso)
        except (UnknownLocaleError, ValueError):
            return Locale.parse(translations.SOURCE_LANGUAGE)


def for_employee(conn: sa.Connection, t: Tables, employee: Employee,
                 timezone: str | None) -> AdminLocale:
    """The locale of ``employee`` (their back-office language) in the shop's time zone
    (``PS_TIMEZONE``; UTC when unset or unknown)."""
    iso = translations.normal_iso(shop_tree.language_iso(conn, t, employee.id_lang))
    name = timezone or "UTC"
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return AdminLocale(iso, zone)
