"""The shop's mail settings (``PS_MAIL_*``, ``PS_SHOP_*``), and the transport they choose.

Read from the shop's ``configuration`` table for one shop, PrestaShop's way (shop, group,
global). ``PS_MAIL_METHOD`` 2 is SMTP, 3 is "never send", anything else the local
sendmail binary, as ``Mail::send`` does.
"""

from __future__ import annotations

import dataclasses
import os
import ssl
from collections.abc import Sequence

import sqlalchemy as sa

from psonlinechat.mail.transports import (
    SENDMAIL_COMMAND,
    Mailer,
    NeverMailer,
    SendmailMailer,
    SmtpMailer,
)
from psonlinechat.prestashop.php import php_int
from psonlinechat.store import configuration, module
from psonlinechat.store.tables import Tables

SENDMAIL, SMTP, NEVER = 1, 2, 3
KEYS = ("PS_MAIL_METHOD", "PS_MAIL_SERVER", "PS_MAIL_SMTP_PORT", "PS_MAIL_USER",
        "PS_MAIL_PASSWD", "PS_MAIL_SMTP_ENCRYPTION", "PS_SHOP_EMAIL", "PS_SHOP_NAME",
        "PS_LANG_DEFAULT")


@dataclasses.dataclass(frozen=True)
class MailSettings:
    """How one shop sends mail, and from whom."""

    method: int = SENDMAIL
    server: str = ""
    port: int = 25
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    encryption: str = "off"
    shop_email: str = ""
    shop_name: str = ""
    #: the iso code of the shop's default language (``PS_LANG_DEFAULT``)
    default_iso: str = "en"


def _int(value: object, default: int) -> int:
    """``value`` as PHP's ``(int)`` reads it, when that is positive; else ``default``."""
    number = php_int(value)
    return number if number > 0 else default


def read(conn: sa.Connection, t: Tables, id_shop: int) -> MailSettings:
    """The mail settings of ``id_shop``.

    :raises sqlalchemy.exc.DBAPIError: the database failed.
    """
    raw = {k: v for k, v in configuration.get_many(conn, t, KEYS, id_shop).items()
           if isinstance(v, str)}
    encryption = raw.get("PS_MAIL_SMTP_ENCRYPTION", "off").strip().lower()
    default_lang = _int(raw.get("PS_LANG_DEFAULT"), 0)
    isos = dict(module.languages(conn, t))
    return MailSettings(
        method=_int(raw.get("PS_MAIL_METHOD"), SENDMAIL),
        server=raw.get("PS_MAIL_SERVER", "").strip(),
        port=_int(raw.get("PS_MAIL_SMTP_PORT"), 25),
        user=raw.get("PS_MAIL_USER", ""),
        password=raw.get("PS_MAIL_PASSWD", ""),
        encryption=encryption if encryption in ("off", "tls", "ssl") else "off",
        shop_email=raw.get("PS_SHOP_EMAIL", "").strip(),
        shop_name=raw.get("PS_SHOP_NAME", "").strip(),
        default_iso=isos.get(default_lang, "en"),
    )


def transport(settings: MailSettings, sendmail: Sequence[str] | None = None,
              context: ssl.SSLContext | None = None) -> Mailer:
    """The transport ``settings.method`` chooses.

    :param sendmail: the command of method 1 (default: ``PSONLINECHAT_SENDMAIL`` from the
        environment, split on spaces, else
        :data:`~psonlinechat.mail.transports.SENDMAIL_COMMAND`).
    :param context: the TLS context of method 2 (default: the system's).
    :raises OSError: method 2 without a server (the queue retries: the merchant may fix it).
    """
    if settings.method == NEVER:
        return NeverMailer()
    if settings.method == SMTP:
        if not settings.server:
            raise OSError("PS_MAIL_METHOD is 2 (SMTP) but PS_MAIL_SERVER is empty")
        return SmtpMailer(settings.server, settings.port, encryption=settings.encryption,
                          user=settings.user, password=settings.password, context=context)
    command = sendmail or os.environ.get("PSONLINECHAT_SENDMAIL", "").split() or SENDMAIL_COMMAND
    return SendmailMailer(command)
