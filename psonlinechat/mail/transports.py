"""Mail transports: how a finished message leaves.

A transport is anything with the :class:`Mailer` protocol's ``send``. :class:`OutboxMailer`
writes each message as an ``.eml`` file in a folder (the demo's outbox); sending through
the shop's mail settings (``PS_MAIL_METHOD``) is another transport of the same protocol.
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.policy
import os
import pathlib
import secrets
from typing import Protocol


class Mailer(Protocol):
    """Something that delivers a finished message."""

    def send(self, message: email.message.EmailMessage) -> None:
        """Deliver ``message``; raise :class:`OSError` (or a subclass) when it cannot."""


class OutboxMailer:
    """Writes every message as an ``.eml`` file in ``folder`` (created when missing).

    :param folder: where the files go; each is written whole, then renamed into place.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = pathlib.Path(folder)

    def send(self, message: email.message.EmailMessage) -> None:
        """Write ``message`` as ``<UTC time>-<random>.eml``.

        :raises OSError: the folder cannot be created or written.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        final = self.folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        partial = final.with_suffix(".part")
        partial.write_bytes(message.as_bytes(policy=email.policy.SMTP))
        partial.replace(final)

    def messages(self) -> list[pathlib.Path]:
        """The ``.eml`` files written so far, oldest first."""
        return sorted(self.folder.glob("*.eml")) if self.folder.exists() else []
