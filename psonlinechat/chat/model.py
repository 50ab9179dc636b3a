"""The chat's model, shared by the core's modules: what posting a message gives, and the
refusals of the chat's rules (:class:`~psonlinechat.errors.ChatError`,
:class:`~psonlinechat.errors.ConversationArchived`, defined with the rest of the tree)."""

from __future__ import annotations

import dataclasses

from psonlinechat.errors import ChatError, ConversationArchived
from psonlinechat.store.conversations import Conversation, Event

__all__ = ["ChatError", "ConversationArchived", "Posted"]


@dataclasses.dataclass(frozen=True)
class Posted:
    """The outcome of posting a message.

    :param event: the message's logged event (the first one when ``duplicate``).
    :param duplicate: the sender's client id was already in the log; nothing was written.
    :param opened: this message opened the conversation.
    :param reopened: the ``reopened`` event this message caused, if any.
    :param operator_name: the shop's operator name, read in the same transaction when an
        event to publish needs it (an operator's), else ``None``.
    """

    event: Event
    conversation: Conversation
    duplicate: bool = False
    opened: bool = False
    reopened: Event | None = None
    operator_name: str | None = None
