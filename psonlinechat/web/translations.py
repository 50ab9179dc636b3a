"""The module's own strings in a person's language: Babel catalogues, one domain per screen.

Catalogues are gettext ``.po`` files shipped in the package,
``psonlinechat/translations/<iso>/LC_MESSAGES/<domain>.po`` (``widget`` for the storefront,
``console`` for the back office), read with Babel and compiled in memory on first use (no
generated ``.mo`` file is kept in the repository). English is the source language: an
English msgid is its own translation, and any string a catalogue lacks falls back to it.

Strings are marked in Python with :func:`N_` so that ``pybabel extract -k N_`` finds them
(see docs/translations.md).
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import re
from collections.abc import Iterable, Mapping

from babel.messages import mofile, pofile
from babel.support import NullTranslations, Translations

PACKAGE = "psonlinechat.translations"
SOURCE_LANGUAGE = "en"
_ISO_RE = re.compile(r"^[a-z]{2,3}$")


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, don't translate"
    """Mark ``message`` for extraction; it is translated later, per request."""
    return message


def normal_iso(iso: str | None) -> str:
    """``iso`` as catalogues are named (``fr``; ``pt-br`` → ``pt``), or the source language."""
    code = (iso or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return code if _ISO_RE.match(code) else SOURCE_LANGUAGE


@functools.lru_cache(maxsize=64)
def translations(iso: str | None, domain: str) -> NullTranslations:
    """The compiled catalogue of ``domain`` in ``iso`` (cached per process); the source
    language, an unknown language or a missing catalogue give the identity translation.

    :raises babel.messages.pofile.PoFileError: a shipped catalogue is malformed.
    """
    code = normal_iso(iso)
    source = importlib.resources.files(PACKAGE).joinpath(f"{code}/LC_MESSAGES/{domain}.po")
    if code == SOURCE_LANGUAGE or not source.is_file():
        return NullTranslations()
    with source.open("rb") as po:
        catalog = pofile.read_po(po, locale=code, domain=domain, abort_invalid=True)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


def translate_all(messages: Mapping[str, str], iso: str | None,
                  domain: str) -> dict[str, str]:
    """Each of ``messages`` (key → English msgid) in ``iso``: what a page sends its script."""
    gettext = translations(iso, domain).gettext
    return {key: gettext(message) for key, message in messages.items()}


def languages(domain: str) -> list[str]:
    """The languages with a catalogue of ``domain``, the source language first."""
    root = importlib.resources.files(PACKAGE)
    shipped: Iterable[str] = (
        entry.name for entry in root.iterdir()
        if entry.is_dir() and entry.joinpath(f"LC_MESSAGES/{domain}.po").is_file())
    return [SOURCE_LANGUAGE, *sorted(set(shipped) - {SOURCE_LANGUAGE})]
