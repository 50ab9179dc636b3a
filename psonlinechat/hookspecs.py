"""The plugin contract (pluggy): what a plugin may implement, PrestaShop-style.

A plugin is any object or module with functions marked :data:`hookimpl` and named after the
specifications below. Three kinds, as in PrestaShop:

- ``display_*`` return HTML (a ``str``, or ``None`` for nothing); the caller joins every
  plugin's answer in pluggy's calling order. They receive one :class:`HookContext`.
- ``identify_*`` are ``firstresult``: the first plugin returning something other than
  ``None`` answers. The shop's cookies are the default plugin, registered ``trylast``, so any
  other plugin is asked first.
- ``action_*`` are events told after the change has committed; they return nothing. Each
  plugin is called on its own: one that raises is logged and the others still hear the event.

Plugins are found through the entry-point group ``psonlinechat`` (the built-in handlers in
``psonlinechat.hooks`` are registered exactly so), or given to ``OnlineChat(plugins=[...])``.
Each app has a plugin manager of its own.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import pluggy

from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.shop.request_facts import RequestFacts

#: The project name pluggy keys the markers with (and the entry-point group).
PROJECT = "psonlinechat"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclasses.dataclass(eq=False)
class HookContext:
    """What a ``display_*`` handler receives, Flask-free.

    :param request: the request's facts (host, cookies, headers, remote address, path).
    :param shop: the shop's database (settings, tables, ``connect()``, the merchant's settings).
    :param render: ``render(template_name, **variables) -> str``, the web layer's Jinja;
        templates are named ``psonlinechat/<hook|front|admin>/<name>.html`` and a host app's
        file at the same path wins.
    :param identify_visitor: ``() -> Visitor``, asked the first time :attr:`visitor` is read.
    :param identify_employee: ``() -> Employee | None``, asked the first time :attr:`employee`
        is read.
    :param chat_state: the app's bridge (:class:`~psonlinechat.web.state.ChatState`) for the
        built-in handlers (the widget asks it for the shop's availability); ``None`` when
        the context was made by hand.
    """

    request: RequestFacts
    shop: ShopDatabase
    render: Callable[..., str]
    identify_visitor: Callable[[], Visitor]
    identify_employee: Callable[[], Employee | None]
    chat_state: Any = None

    @functools.cached_property
    def visitor(self) -> Visitor:
        """The storefront visitor (through the ``identify_visitor`` hook).

        :raises ShopError: the database is unreachable.
        """
        return self.identify_visitor()

    @functools.cached_property
    def employee(self) -> Employee | None:
        """The back-office employee, or ``None`` (through the ``identify_employee`` hook).

        :raises ShopError: the database is unreachable.
        """
        return self.identify_employee()


# --- display: HTML fragments -----------------------------------------------------------------

@hookspec
def display_header(context: HookContext) -> str | None:
    """HTML for the storefront page's ``<head>`` (PrestaShop's ``displayHeader``)."""


@hookspec
def display_footer(context: HookContext) -> str | None:
    """HTML for the end of the storefront page's body (``displayFooter``)."""


@hookspec
def display_back_office_header(context: HookContext) -> str | None:
    """HTML for a back-office page's ``<head>`` (``displayBackOfficeHeader``)."""


@hookspec
def display_back_office_footer(context: HookContext) -> str | None:
    """HTML for the end of a back-office page's body (``displayBackOfficeFooter``)."""


# --- identify: one answer --------------------------------------------------------------------

@hookspec(firstresult=True)
def identify_visitor(request: RequestFacts, shop: ShopDatabase) -> Visitor | None:
    """The storefront visitor of ``request``, or ``None`` to let the next plugin answer."""


@hookspec(firstresult=True)
def identify_employee(request: RequestFacts, shop: ShopDatabase) -> Employee | None:
    """The back-office employee of ``request``, or ``None`` to let the next plugin answer."""


# --- action: events after commit ---------------------------------------------------------------

@hookspec
def action_conversation_opened(id_shop: int, conversation: dict[str, Any]) -> None:
    """A visitor opened a conversation; ``conversation`` is the operators' recap summary."""


@hookspec
def action_message_posted(id_shop: int, id_conversation: int, message: dict[str, Any]) -> None:
    """A message was posted; ``message`` is the event as operators see it."""


@hookspec
def action_conversation_ended(id_shop: int, id_conversation: int, by: str) -> None:
    """A conversation was ended by ``by``: ``"customer"``, ``"operator"``, or ``"system"``
    when the last operator going offline ended it."""


@hookspec
def action_conversation_archived(id_shop: int, id_conversations: list[int]) -> None:
    """Finished conversations went into the history (as when the operators go offline)."""


@hookspec
def action_offline_message_received(id_shop: int, message: dict[str, Any]) -> None:
    """A visitor left a message through the offline form (stored, before it is mailed)."""
