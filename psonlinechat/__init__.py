"""PrestaShop's Online Chat module as a Flask blueprint."""

from psonlinechat.errors import (
    ChatError,
    ConfigError,
    ConversationArchived,
    MailError,
    PsOnlineChatError,
    ServeError,
    SettingsError,
    ShopError,
)
from psonlinechat.hookspecs import hookimpl
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.shop.request_facts import RequestFacts
from psonlinechat.web.extension import OnlineChat, get_state
from psonlinechat.web.fragments import render_hook
from psonlinechat.web.inject import FragmentInjector

__version__ = "0.1.0"

__all__ = [
    "ChatError",
    "ConfigError",
    "ConversationArchived",
    "Employee",
    "FragmentInjector",
    "MailError",
    "OnlineChat",
    "PsOnlineChatError",
    "RequestFacts",
    "ServeError",
    "SettingsError",
    "ShopError",
    "Visitor",
    "get_state",
    "hookimpl",
    "render_hook",
]
