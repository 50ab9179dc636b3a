"""Mail transports: how a finished message leaves.

A transport is anything with the :class:`Mailer` protocol's ``send``. :class:`OutboxMailer`
writes each message as an ``.eml`` file in a folder (the demo's outbox); the shop's mail
settings (``PS_MAIL_METHOD``, see :mod:`psonlinechat.mail.settings`) choose one of
:class:`SendmailMailer` (1), :class:`SmtpMailer` (2) or :class:`NeverMailer` (3).
A transport that cannot deliver raises :class:`OSError` (``smtplib``'s errors are
``OSError`` too): the queue retries the message later.
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.policy
import os
import pathlib
import secrets
import smtplib
import ssl
import subprocess
from collections.abc import Sequence
from typing import Protocol

#: The sendmail command of ``PS_MAIL_METHOD`` 1 (``PSONLINECHAT_SENDMAIL`` may replace it,
#: see :func:`psonlinechat.mail.settings.transport`).
SENDMAIL_COMMAND = ("/usr/sbin/sendmail", "-t", "-i")


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


class NeverMailer:
    """``PS_MAIL_METHOD`` 3: nothing is ever sent, and that is a success (as PrestaShop)."""

    def send(self, message: email.message.EmailMessage) -> None:
        """Drop ``message``."""


class SendmailMailer:
    """``PS_MAIL_METHOD`` 1: the local sendmail binary, given the message on its input
    (``sendmail -t -i``: recipients from the headers, a lone dot is no end).

    :param command: the program and its arguments.
    :param timeout: seconds the program may take.
    """

    def __init__(self, command: Sequence[str] = SENDMAIL_COMMAND,
                 timeout: float = 30) -> None:
        self.command = list(command)
        self.timeout = timeout

    def send(self, message: email.message.EmailMessage) -> None:
        """Run the program with ``message`` on its input.

        :raises OSError: the program is missing, timed out, or exited with a failure.
        """
        try:
            done = subprocess.run(self.command, input=message.as_bytes(policy=email.policy.SMTP),
                                  capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise OSError(f"{self.command[0]} took more than {self.timeout} s") from exc
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip()[:300]
            raise OSError(f"{self.command[0]} exited with status {done.returncode}: {said}")


class SmtpMailer:
    """``PS_MAIL_METHOD`` 2: an SMTP server.

    :param host: ``PS_MAIL_SERVER``.
    :param port: ``PS_MAIL_SMTP_PORT``.
    :param encryption: ``PS_MAIL_SMTP_ENCRYPTION``: ``off`` (plain), ``tls`` (STARTTLS) or
        ``ssl`` (TLS from the first byte), as PrestaShop 1.7.8 and 8 mean them.
    :param user: ``PS_MAIL_USER``; no login when empty.
    :param password: ``PS_MAIL_PASSWD``.
    :param context: the TLS context (default: the system's, certificates checked).
    :param timeout: seconds for connecting and each exchange.
    """

    def __init__(self, host: str, port: int, *, encryption: str = "off", user: str = "",
                 password: str = "", context: ssl.SSLContext | None = None,
                 timeout: float = 10) -> None:
        if encryption not in ("off", "tls", "ssl"):
            raise ValueError(f"SMTP encryption must be off, tls or ssl, not {encryption!r}")
        self.host, self.port, self.encryption = host, port, encryption
        self.user, self.password = user, password
        self.context, self.timeout = context, timeout

    def send(self, message: email.message.EmailMessage) -> None:
        """Deliver ``message`` in one SMTP session.

        :raises OSError: the server is unreachable, refused the login or the message, or
            TLS failed (:class:`smtplib.SMTPException` and :class:`ssl.SSLError` are ``OSError``).
        """
        context = self.context or ssl.create_default_context()
        client: smtplib.SMTP
        if self.encryption == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                      context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.encryption == "tls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password)
            client.send_message(message)
