"""The back office's ``admin`` catalogues: every string of the tab's templates and modules
translated in French, Spanish, German and Italian with its placeholders, nothing stale; and
a French employee gets French pages with dates in the shop's time zone, written the French
way."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import pathlib
import re
import zoneinfo

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from psonlinechat.web import translations
from psonlinechat.web.admin.locale import DOMAIN, AdminLocale

ROOT = pathlib.Path(__file__).resolve().parents[2]
LANGUAGES = ("fr", "es", "de", "it")
TEMPLATES = ("layout", "configuration", "history", "history_view", "history_confirm", "help",
             "faq", "contact")
MODULES = ("pages", "configuration", "history", "help", "shop_context")
PLACEHOLDER = re.compile(r"%\([A-Za-z_]+\)[sdif]")


def marked() -> set:
    """What extraction finds: ``_``/``ngettext`` in the templates, ``N_`` in the modules."""
    found: set = set()
    for name in TEMPLATES:
        found |= {m for _, m, *_ in extract_from_file(
            "jinja2.ext:babel_extract", str(ROOT / f"views/templates/admin/{name}.html"),
            keywords={"_": None, "ngettext": (1, 2)})}
    for name in MODULES:
        found |= {m for _, m, *_ in extract_from_file(
            "python", str(ROOT / f"psonlinechat/web/admin/{name}.py"), keywords={"N_": None})}
    return {m if isinstance(m, str) else tuple(m) for m in found}


def catalogue(iso: str):
    path = importlib.resources.files(translations.PACKAGE).joinpath(
        f"{iso}/LC_MESSAGES/{DOMAIN}.po")
    with path.open("rb") as po:
        return read_po(po, locale=iso, domain=DOMAIN, abort_invalid=True)


@pytest.mark.parametrize("iso", LANGUAGES)
def test_every_string_is_translated_with_its_placeholders(iso):
    parsed = catalogue(iso)
    problems = []
    for msgid in sorted(marked(), key=str):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = parsed.get(key)
        strings = (message.string if isinstance(message.string, tuple) else (message.string,)
                   ) if message else ()
        if not strings or not all(s and s.strip() for s in strings) or message.fuzzy:
            problems.append(f"missing or fuzzy: {key!r}")
            continue
        wanted = sorted(set(PLACEHOLDER.findall(msgid[-1] if isinstance(msgid, tuple)
                                                else msgid)))
        for string in strings:
            if sorted(set(PLACEHOLDER.findall(string))) != wanted and not (
                    isinstance(msgid, tuple) and string is strings[0]):
                problems.append(f"placeholders differ: {key!r} -> {string!r}")
    assert problems == []


@pytest.mark.parametrize("iso", LANGUAGES)
def test_the_catalogue_holds_nothing_stale(iso):
    ids = {m[0] if isinstance(m, tuple) else m for m in marked()}
    assert {message.id if isinstance(message.id, str) else message.id[0]
            for message in catalogue(iso) if message.id} - ids == set()


def test_a_french_employee_reads_french_with_french_dates():
    locale = AdminLocale("fr", zoneinfo.ZoneInfo("Europe/Paris"))
    assert locale.gettext("Save") == "Enregistrer"
    assert locale.gettext("Group: %(name)s", name="Sud") == "Groupe : Sud"
    assert locale.ngettext("%(num)d line", "%(num)d lines", 3) == "3 lignes"
    when = dt.datetime(2026, 7, 14, 20, 5)  # UTC: 22:05 in Paris
    assert locale.datetime(when) == "14 juil. 2026, 22:05:00"
    assert locale.iso_datetime(when) == "2026-07-14T22:05:00+02:00"
    english = AdminLocale("en", zoneinfo.ZoneInfo("America/New_York"))
    assert english.datetime(when) == "Jul 14, 2026, 4:05:00\u202fPM"
    assert AdminLocale("pt", zoneinfo.ZoneInfo("UTC")).gettext("Save") == "Save"
