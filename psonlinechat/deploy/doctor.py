"""``psonlinechat doctor``: checks a deployment from the outside, as a browser would, and
says in plain words what is wrong and how to fix it.

It reads the settings as ``serve`` does (parameters.php, the shop's database), then visits
the shop's URL like a browser: the page, ``<prefix>/`` through the web server, a WebSocket
upgrade from the shop's own Origin and from a foreign one, the fragment on the page. Mail
settings are tried without sending anything unless a test address is given. Nothing is
written anywhere.
"""

from __future__ import annotations

import dataclasses
import email.message
import re
import shutil
import smtplib
import ssl
import urllib.parse
from collections.abc import Mapping
from typing import Any

from psonlinechat import config as config_module
from psonlinechat.config import Settings
from psonlinechat.deploy import checks_http
from psonlinechat.deploy.findings import Findings
from psonlinechat.deploy.module_zip import MODULE_NAME
from psonlinechat.errors import ConfigError, ShopError
from psonlinechat.mail import settings as mail_settings
from psonlinechat.prestashop import parameters
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import engine as engine_module
from psonlinechat.store import module as module_meta
from psonlinechat.store import shops
from psonlinechat.store.module_registration import Registration, registration

MODULE_HOOKS = frozenset({"displayHeader", "displayFooter", "displayBackOfficeHeader",
                          "displayBackOfficeFooter"})
UPLOAD_FIX = ("write the zip with `psonlinechat prestashop-module --out .` and upload it in "
              "Modules > Module Manager > Upload a module (or use the injection recipe of "
              "docs/deploy/ if you cannot install modules)")


@dataclasses.dataclass
class ShopFacts:
    """What the database says: the hosts in shop_url, the mail settings."""

    hosts: set[str]
    mail: mail_settings.MailSettings | None


def check_parameters(config: Mapping[str, Any], findings: Findings) -> Settings | None:
    """parameters.php, then every setting; the settings, or ``None`` when unusable."""
    root = config.get("PSONLINECHAT_PRESTASHOP_ROOT")
    if root:
        try:
            parameters.read(root)
        except ConfigError as exc:
            findings.problem("parameters.php", str(exc),
                             "run the doctor as the user the bridge runs as (e.g. "
                             "`sudo -u www-data psonlinechat doctor ...`) and check that "
                             "PSONLINECHAT_PRESTASHOP_ROOT is the shop's folder")
            return None
        findings.ok("parameters.php", f"read {root}/{parameters.RELATIVE_PATH}")
    else:
        findings.skipped("parameters.php", "PSONLINECHAT_PRESTASHOP_ROOT is not set: the "
                         "database comes from PSONLINECHAT_DATABASE_URL")
    try:
        return config_module.from_mapping(config)
    except ConfigError as exc:
        findings.problem("settings", str(exc), "set the variable it names (see the README's "
                         "settings table), e.g. in /etc/psonlinechat.env")
        return None


def _module_finding(found: Registration | None, findings: Findings) -> None:
    if found is None:
        findings.problem("module", "PrestaShop has no module named psonlinechat", UPLOAD_FIX)
    elif not found.active:
        findings.problem("module", "the psonlinechat module is installed but disabled",
                         "enable it in Modules > Module Manager")
    elif missing := sorted(MODULE_HOOKS - found.hooks):
        findings.problem("module", f"the module is not attached to {', '.join(missing)}",
                         "reset the module in Modules > Module Manager (Reset)")
    else:
        findings.ok("module", "installed, enabled, on its four hooks")


def check_database(settings: Settings, findings: Findings) -> ShopFacts | None:
    """Connect; the bridge's tables, the PHP module, shop_url and the mail settings."""
    engine = engine_module.create_engine(settings)
    database = ShopDatabase(settings=settings, engine=engine)
    try:
        with database.connect() as conn:
            t = database.tables
            hosts = shops.shop_hosts(conn, t)
            installed = module_meta.schema_version(conn, t) is not None
            found = registration(conn, t, MODULE_NAME)
            mail = mail_settings.read(conn, t, 1)
    except ShopError as exc:
        findings.problem("database", str(exc), "check the database settings in parameters.php "
                         "or PSONLINECHAT_DATABASE_URL, and that this host may connect")
        return None
    finally:
        engine.dispose()
    url = engine.url
    findings.ok("database", f"connected to {url.database} on {url.host} "
                f"(tables {settings.table_prefix}*)")
    if installed:
        findings.ok("bridge tables", "the chat's tables are installed")
    else:
        findings.problem("bridge tables", "the chat's tables are missing",
                         "run `psonlinechat install` with the same settings")
    _module_finding(found, findings)
    return ShopFacts(hosts=hosts, mail=mail)


def check_origin_hosts(shop_url: str, settings: Settings, facts: ShopFacts,
                       findings: Findings) -> None:
    """The host browsers use is one PrestaShop's shop_url (or ALLOWED_ORIGINS) names."""
    parts = urllib.parse.urlsplit(shop_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    bare = {host.split(":")[0].lower() for host in facts.hosts}
    allowed = {o.rstrip("/").lower() for o in settings.allowed_origins}
    if (parts.hostname or "").lower() in bare or origin.lower() in allowed:
        findings.ok("origin hosts", f"{parts.hostname} is a shop host "
                    f"(shop_url: {', '.join(sorted(facts.hosts))})")
        return
    findings.problem(
        "origin hosts", f"browsers come from {origin}, but shop_url only names "
        f"{', '.join(sorted(facts.hosts)) or 'nothing'}",
        "set the shop's domain in Shop Parameters > Traffic & SEO > Shop URL, or add "
        f"{origin} to PSONLINECHAT_ALLOWED_ORIGINS")


def _smtp_session(mail: mail_settings.MailSettings, timeout: float) -> None:
    """Connect, say hello, start TLS and log in as the queue would; send nothing."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if mail.encryption == "ssl":
        client = smtplib.SMTP_SSL(mail.server, mail.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(mail.server, mail.port, timeout=timeout)
    with client:
        client.ehlo()
        if mail.encryption == "tls":
            client.starttls(context=context)
        if mail.user:
            client.login(mail.user, mail.password)


def check_mail(mail: mail_settings.MailSettings, findings: Findings, timeout: float,
               send_to: str | None = None) -> None:
    """Whether offline messages can be mailed; sends one only to ``send_to``."""
    if mail.method == mail_settings.NEVER:
        findings.warning("mail", "PrestaShop's mail is off (PS_MAIL_METHOD 3): offline "
                         "messages are kept but never mailed",
                         "choose a mail method in Advanced Parameters > E-mail")
        return
    try:
        if mail.method == mail_settings.SMTP:
            if not mail.server:
                raise OSError("PS_MAIL_SERVER is empty")
            _smtp_session(mail, timeout)
            detail = f"SMTP {mail.server}:{mail.port} ({mail.encryption}) accepts a session"
        else:
            command = getattr(mail_settings.transport(mail), "command", ["sendmail"])[0]
            if not shutil.which(command):
                raise OSError(f"{command} is not installed")
            detail = f"sendmail ({command}) is installed"
        if send_to:
            mail_settings.transport(mail).send(_test_message(mail, send_to))
            detail += f"; a test mail went to {send_to}"
    except (OSError, ValueError) as exc:
        findings.problem("mail", f"cannot send mail: {exc}",
                         "fix the settings in Advanced Parameters > E-mail and send "
                         "PrestaShop's own test mail from there")
        return
    findings.ok("mail", detail)


def _test_message(mail: mail_settings.MailSettings, to: str) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"] = mail.shop_email or to
    message["To"] = to
    message["Subject"] = "psonlinechat doctor: test mail"
    message.set_content("This test mail was sent by `psonlinechat doctor --send-test-mail`.\n")
    return message


def diagnose(config: Mapping[str, Any], shop_url: str, *, timeout: float = 5.0,
             send_to: str | None = None) -> Findings:
    """Every check, in the order a merchant would fix them.

    :param config: the ``PSONLINECHAT_*`` keys (:func:`psonlinechat.config.from_environ`).
    :param shop_url: the storefront's public URL, as browsers reach it.
    :raises ValueError: ``shop_url`` is not an http(s) URL.
    """
    if not re.match(r"https?://[^/\s]+", shop_url):
        raise ValueError(f"--shop-url must be the shop's address, e.g. https://shop.example/, "
                         f"not {shop_url!r}")
    findings = Findings()
    settings = check_parameters(config, findings)
    facts = check_database(settings, findings) if settings else None
    prefix = settings.url_prefix if settings else "/psonlinechat"
    checks_http.check_site(shop_url, prefix, findings, timeout)
    if settings and facts:
        check_origin_hosts(shop_url, settings, facts, findings)
        if facts.mail is not None:
            check_mail(facts.mail, findings, timeout, send_to)
    return findings
