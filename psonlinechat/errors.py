"""The exceptions psonlinechat raises on purpose, in one tree.

::

    PsOnlineChatError           anything psonlinechat raises on purpose
     ├── ConfigError            a PSONLINECHAT_* setting or parameters.php is wrong (key)
     ├── ShopError              the shop's database failed, is unreachable, or lacks
     │                          PrestaShop's tables (code, lost; chained to the cause)
     ├── SettingsError          the merchant's settings hold invalid values (errors)
     ├── MailError              an unknown mail or language code was asked for
     ├── ServeError             the server cannot start as asked
     ├── ChatError              a chat action the rules refuse (code, message, extra)
     │    └── ConversationArchived   the visitor's conversation was archived
     └── ProtocolError          a client frame the server cannot act on (code, message,
                                extra); defined with the wire's frames, in
                                psonlinechat.chat.protocol, as it builds its error frame

:class:`ChatError` is the chat core's word and ``ProtocolError`` the wire's: neither
derives from the other. The socket edge (:mod:`psonlinechat.web.sockets.frames`) answers
both with the protocol's ``error`` frame. A database failure becomes a :class:`ShopError`
in one place (:func:`psonlinechat.shop.database.connection`, with
:func:`~psonlinechat.shop.database.failure`), raised ``from`` what the driver raised.
"""

from __future__ import annotations

from typing import Any


class PsOnlineChatError(Exception):
    """Base of every error psonlinechat raises on purpose."""


class ConfigError(PsOnlineChatError):
    """A ``PSONLINECHAT_*`` setting (or the shop's parameters.php) is missing or malformed."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key} {message}")
        self.key = key


class ShopError(PsOnlineChatError):
    """The shop's database failed or cannot be reached, or lacks the tables PrestaShop
    creates.

    :param code: the database's error number (``2003``, ``1213``…), ``None`` when the
        database gave none (missing tables).
    :param lost: the connection was lost or could not be made: the same work may succeed
        on a fresh connection (see :class:`psonlinechat.chat.retry.Retry`).
    """

    def __init__(self, message: str, *, code: int | None = None, lost: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.lost = lost


class SettingsError(PsOnlineChatError):
    """The merchant's settings hold invalid values; ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field} {message}" for field, message in errors.items()))
        self.errors = dict(errors)


class MailError(PsOnlineChatError):
    """An unknown mail or a bad language code was asked for."""


class ServeError(PsOnlineChatError):
    """The server cannot start as asked (options, settings or system limits)."""


class ChatError(PsOnlineChatError):
    """A chat action the rules refuse.

    :param code: why, in a word clients may rely on: ``invalid_token``, ``unavailable``
        (with ``state``), ``not_found``, ``not_ongoing``, ``archived``, ``no_conversation``.
    :param message: a sentence for people.
    :param extra: what else the refusal tells (``state``, ``id_conversation``).
    """

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class ConversationArchived(ChatError):
    """The visitor's token names a conversation that was archived: start a new one."""

    def __init__(self) -> None:
        super().__init__("archived", "this conversation is over; a new one starts")
