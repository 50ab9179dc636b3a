"""PrestaShop's Online Chat module as a Flask blueprint."""

from psonlinechat.errors import ConfigError, PsOnlineChatError, ShopError
from psonlinechat.web.extension import OnlineChat, get_state

__version__ = "0.1.0"

__all__ = ["ConfigError", "OnlineChat", "PsOnlineChatError", "ShopError", "get_state"]
