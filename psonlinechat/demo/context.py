"""What the demo's pages need to know about the shop, found once when the app starts."""

from __future__ import annotations

import dataclasses

from flask import Flask, current_app

from psonlinechat.demo.data import DataFolder, DemoSecrets
from psonlinechat.demo.shop_cookies import ShopCookies

EXTENSION_NAME = "psonlinechat_demo"


@dataclasses.dataclass(frozen=True)
class Language:
    """A language the shop offers."""

    id_lang: int
    iso_code: str
    name: str

    @property
    def label(self) -> str:
        """The language's name in itself: ``English``, ``Français``."""
        return self.name.split(" (")[0]


@dataclasses.dataclass(frozen=True)
class DemoShop:
    """The seeded shop as the pages see it.

    :param languages: the shop's active languages, by id.
    :param default_lang: PS_LANG_DEFAULT.
    """

    id_shop: int
    id_shop_group: int
    name: str
    languages: tuple[Language, ...]
    default_lang: int
    cookies: ShopCookies
    folder: DataFolder
    secrets: DemoSecrets

    def language(self, id_lang: int | None) -> Language:
        """The shop's language ``id_lang``, or its default one when it offers no such language."""
        by_id = {language.id_lang: language for language in self.languages}
        return by_id.get(id_lang) or by_id.get(self.default_lang) or self.languages[0]

    def language_by_iso(self, iso_code: str) -> Language | None:
        """The shop's language with ``iso_code``, or ``None``."""
        return next((language for language in self.languages
                     if language.iso_code == iso_code), None)


def get_demo(app: Flask | None = None) -> DemoShop:
    """The demo shop of ``app`` (default: the current app).

    :raises RuntimeError: the app is not the demo's.
    """
    app = app or current_app
    try:
        return app.extensions[EXTENSION_NAME]
    except KeyError:
        raise RuntimeError("this app was not made by psonlinechat.demo.create_app") from None
