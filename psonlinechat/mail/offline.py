"""Offline messages: a visitor's post checked, stored and its mail queued, in ONE transaction.

:func:`receive` checks the post against the merchant's form
(:mod:`psonlinechat.shop.offline_form`); a valid one is stored with its mail queued and
committed together, so a message never exists without its mail, nor a mail without its
message. Nothing is stored from a refused post. The caller then tells the plugins and
sends the mail (:class:`~psonlinechat.mail.queue.MailQueue`), after the commit, never
inside it: a mail that cannot leave now stays queued.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from psonlinechat.shop import offline_form
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Visitor
from psonlinechat.store import offline_messages as repo

#: The longest client address kept (an IPv6 address in full).
IP_LIMIT = 45


@dataclasses.dataclass(frozen=True)
class Received:
    """What became of one post.

    :param open: whether the shop takes offline messages (offline mode on); when not,
        nothing was checked or stored.
    :param errors: field → error code (:mod:`psonlinechat.shop.offline_form`); nothing was
        stored when there is any.
    :param id_offline_message: the stored message (``None`` when refused).
    :param id_mail: its queued mail (``None`` when refused).
    :param summary: the stored message as the ``action_offline_message_received`` hook
        receives it (``None`` when refused).
    """

    open: bool
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    id_offline_message: int | None = None
    id_mail: int | None = None
    summary: dict[str, Any] | None = None

    @property
    def stored(self) -> bool:
        return self.id_offline_message is not None


def receive(shop: ShopDatabase, visitor: Visitor, post: Mapping[str, Any], *,
            page_url: Any = "", ip: str = "", now: dt.datetime) -> Received:
    """Check ``post`` against the merchant's offline form for ``visitor``'s shop; when it
    is valid, store it and queue its mail in one transaction.

    :param page_url: the page the form was sent from (kept when it is an http(s) address).
    :param ip: the client's address.
    :param now: the time to record, naive UTC.
    :raises ShopError: the shop's database failed (nothing was stored).
    :raises sqlalchemy.exc.DBAPIError: any other statement error, a table missing say
        (nothing was stored).
    """
    with shop.connect() as conn:
        settings = shop.module_settings(conn, visitor.id_shop)
        if not settings.offline_mode:
            return Received(open=False)
        checked = offline_form.check(post, settings, visitor)
        if not checked.valid:
            return Received(open=True, errors=checked.errors)
        row = {**checked.values, "id_shop": visitor.id_shop, "id_lang": visitor.id_lang,
               "id_customer": visitor.id_customer, "id_guest": visitor.id_guest,
               "page_url": offline_form.page_url(page_url), "ip": ip[:IP_LIMIT]}
        id_message = repo.insert_message(conn, shop.tables, row, now)
        id_mail = repo.enqueue(conn, shop.tables, id_message, now)
        conn.commit()
    summary = {"id_offline_message": id_message, **row, "date_add": now.isoformat()}
    return Received(open=True, id_offline_message=id_message, id_mail=id_mail, summary=summary)
