"""The widget's catalogues: complete, well-formed, placeholders intact, English as fallback."""

from __future__ import annotations

import importlib.resources
import re

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from psonlinechat.web import translations
from psonlinechat.web.front.strings import DOMAIN, STRINGS

LANGUAGES = ("fr", "es", "de", "it")
#: ``{name}`` as the widget fills them, and printf-style ones, should a string ever use them.
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|%\([A-Za-z_]+\)[sdif]|%[sdif]")


def catalogue_path(iso: str):
    return importlib.resources.files(translations.PACKAGE).joinpath(
        f"{iso}/LC_MESSAGES/{DOMAIN}.po")


def catalogue(iso: str):
    with catalogue_path(iso).open("rb") as po:
        return read_po(po, locale=iso, domain=DOMAIN, abort_invalid=True)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_language_is_shipped():
    assert set(LANGUAGES) <= set(translations.languages(DOMAIN))
    assert translations.languages(DOMAIN)[0] == "en"


@pytest.mark.parametrize("iso", LANGUAGES)
def test_the_catalogue_parses_and_says_its_language(iso):
    parsed = catalogue(iso)
    assert str(parsed.locale) == iso
    headers = dict(parsed.mime_headers)
    assert headers["Language"] == iso
    assert headers["Plural-Forms"].startswith("nplurals=")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert not parsed.fuzzy


@pytest.mark.parametrize("iso", LANGUAGES)
def test_every_string_is_translated_with_its_placeholders(iso):
    parsed = catalogue(iso)
    problems = []
    for msgid in sorted(set(STRINGS.values())):
        message = parsed.get(msgid)
        if message is None or not message.string or not message.string.strip():
            problems.append(f"missing: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif placeholders(message.string) != placeholders(msgid):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    assert problems == []


@pytest.mark.parametrize("iso", LANGUAGES)
def test_the_catalogue_holds_nothing_the_widget_no_longer_says(iso):
    parsed = catalogue(iso)
    stale = {message.id for message in parsed if message.id} - set(STRINGS.values())
    assert stale == set(), "run the update of docs/translations.md"


def test_every_string_is_marked_for_extraction():
    """What ``pybabel extract -k N_`` finds (docs/translations.md) is the widget's strings."""
    path = importlib.resources.files("psonlinechat.web.front").joinpath("strings.py")
    with importlib.resources.as_file(path) as source:
        found = {message for _, message, *_ in extract_from_file(
            "python", str(source), keywords={"N_": None})}
    assert found == set(STRINGS.values())


def test_translated_per_visitor_language():
    french = translations.translate_all(STRINGS, "fr", DOMAIN)
    assert french["send"] == "Envoyer"
    assert french["launcher"] == "Discuter avec nous"
    assert translations.translate_all(STRINGS, "fr-FR", DOMAIN) == french
    assert translations.translate_all(STRINGS, "de", DOMAIN)["send"] == "Senden"
    assert translations.translate_all(STRINGS, "es", DOMAIN)["send"] == "Enviar"
    assert translations.translate_all(STRINGS, "it", DOMAIN)["send"] == "Invia"


@pytest.mark.parametrize("iso", ["en", "xx", "pt-br", "", None, "../fr", "FR;drop"])
def test_an_unknown_language_falls_back_to_english(iso):
    assert translations.translate_all(STRINGS, iso, DOMAIN) == STRINGS
