"""The README documents every deployment key, and nothing else, in its Configure table."""

from __future__ import annotations

import pathlib
import re

from psonlinechat import config as settings
from psonlinechat import console as cli
from psonlinechat.web import commands

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def configure_rows() -> dict[str, str]:
    rows = re.findall(r"^\| `(PSONLINECHAT_[A-Z_]+)` \| ([^|]*) \|", section("Configure"), re.M)
    return {name: default.strip() for name, default in rows}


def test_every_key_is_documented_and_nothing_else():
    documented = configure_rows()
    declared = {key.config_name for key in settings.KEYS}
    assert sorted(declared - set(documented)) == [], "keys missing from the README"
    assert sorted(set(documented) - declared) == [], "README documents keys that do not exist"


def test_documented_defaults_match():
    documented = configure_rows()
    for key in settings.KEYS:
        if key.default in (None, ()):
            expected = "—"
        elif isinstance(key.default, bool):
            expected = f"`{str(key.default).lower()}`"
        else:
            expected = f"`{key.default}`"
        assert documented[key.config_name] == expected, key.config_name


def test_install_section_names_real_commands():
    text = section("Install into a shop")
    for command in ("install", "uninstall", "upgrade"):
        assert f"psonlinechat {command}" in text
        assert command in cli.main.commands and command in commands.flask_group.commands
    for option in ("--prestashop-root", "--database-url", "--table-prefix", "--yes"):
        assert option in text
    assert "<!-- install -->" not in text and "<!-- configure -->" not in section("Configure")
