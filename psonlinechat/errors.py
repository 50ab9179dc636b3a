"""The exceptions psonlinechat raises on purpose."""

from __future__ import annotations


class PsOnlineChatError(Exception):
    """Base of every error psonlinechat raises on purpose."""


class ConfigError(PsOnlineChatError):
    """A ``PSONLINECHAT_*`` setting (or the shop's parameters.php) is missing or malformed."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key} {message}")
        self.key = key


class ShopError(PsOnlineChatError):
    """The shop's database cannot be reached, or lacks the tables PrestaShop creates."""


class SettingsError(PsOnlineChatError):
    """The merchant's settings hold invalid values; ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field} {message}" for field, message in errors.items()))
        self.errors = dict(errors)
