"""The README's "Install on your shop" names real commands and real recipe files."""

from __future__ import annotations

import pathlib
import re

from psonlinechat import console as cli
from tests.test_docs import section

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_the_walk_through_names_real_commands():
    text = section("Install on your shop")
    for command in ("install", "serve", "prestashop-module", "doctor"):
        assert command in cli.main.commands
    for usage in ("psonlinechat install --prestashop-root", "psonlinechat prestashop-module --out",
                  "psonlinechat doctor --prestashop-root", "--send-test-mail"):
        assert usage in text, usage
    doctor_options = {option for param in cli.main.commands["doctor"].params
                      for option in param.opts}
    assert {"--shop-url", "--send-test-mail", "--prestashop-root"} <= doctor_options


def test_every_linked_recipe_exists_and_every_recipe_is_linked():
    text = section("Install on your shop")
    linked = set(re.findall(r"\]\((docs/deploy/[^)]+)\)", text))
    assert linked, "the section links the recipes"
    for path in linked:
        assert (REPO / path).is_file(), path
    recipes = {f"docs/deploy/{p.name}" for p in (REPO / "docs" / "deploy").iterdir()}
    assert recipes <= linked, sorted(recipes - linked)
