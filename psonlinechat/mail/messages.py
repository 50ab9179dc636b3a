"""Mail messages: templates rendered per language, subjects, and the MIME message.

Templates are ``psonlinechat.mails/<iso>/<name>.html`` and ``.txt`` (package data, found
with :mod:`importlib.resources`), rendered by Jinja with HTML escaping in ``.html`` files
only; a language without the template falls back to English, as PrestaShop's modules do.
Every placeholder a mail declares in :data:`MAILS` is always defined (``""`` when not
given); anything else used by a template is an error.

How a finished message leaves is :mod:`psonlinechat.mail.transports`.
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.policy
import email.utils
import importlib.resources
import re
from collections.abc import Mapping
from typing import Any

import jinja2

from psonlinechat.errors import MailError as MailError  # raised here, part of the one tree

PACKAGE = "psonlinechat.mails"
FALLBACK_ISO = "en"
#: Every mail the module sends, with the placeholders its templates use.
MAILS: dict[str, tuple[str, ...]] = {
    "offline_message": ("shop_name", "firstname", "lastname", "email", "phone", "message"),
}
#: Subjects by mail and language (English when a language has none).
SUBJECTS: dict[str, dict[str, str]] = {
    "offline_message": {
        "en": "[{shop_name}] New message from the chat's contact form",
        "fr": "[{shop_name}] Nouveau message via le formulaire du chat",
        "de": "[{shop_name}] Neue Nachricht über das Kontaktformular des Chats",
        "es": "[{shop_name}] Nuevo mensaje desde el formulario del chat",
        "it": "[{shop_name}] Nuovo messaggio dal modulo di contatto della chat",
    },
}
_ISO_RE = re.compile(r"^[a-z]{2}$")
_FORMATS = ("html", "txt")


def _load(name: str) -> tuple[str, None, Any] | None:
    resource = importlib.resources.files(PACKAGE).joinpath(name)
    try:
        source = resource.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return source, None, lambda: True


_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(_load),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def languages() -> list[str]:
    """The iso codes the module ships mails in."""
    root = importlib.resources.files(PACKAGE)
    return sorted(item.name for item in root.iterdir()
                  if item.is_dir() and _ISO_RE.match(item.name))


def template_path(name: str, iso: str, fmt: str) -> str:
    """The template used for mail ``name`` in language ``iso`` (``en`` when it lacks one).

    :raises MailError: ``name`` is not a mail of the module.
    """
    if name not in MAILS:
        raise MailError(f"{name!r} is not a mail of the module")
    iso = (iso or "").lower()
    if _ISO_RE.match(iso) and importlib.resources.files(PACKAGE).joinpath(
            f"{iso}/{name}.{fmt}").is_file():
        return f"{iso}/{name}.{fmt}"
    return f"{FALLBACK_ISO}/{name}.{fmt}"


def render(name: str, iso: str, variables: Mapping[str, Any]) -> tuple[str, str]:
    """Render mail ``name`` in language ``iso``: ``(html, text)``.

    :raises MailError: ``name`` is not a mail of the module.
    :raises jinja2.UndefinedError: a template uses a placeholder the mail does not declare.
    """
    values = {key: "" for key in MAILS.get(name, ())}
    values.update({key: "" if value is None else value for key, value in variables.items()})
    html, text = (_ENV.get_template(template_path(name, iso, fmt)).render(values)
                  for fmt in _FORMATS)
    return html, text


def subject(name: str, iso: str, variables: Mapping[str, Any]) -> str:
    """The subject of mail ``name`` in language ``iso`` (English fallback), on one line.

    :raises MailError: ``name`` is not a mail of the module.
    """
    if name not in SUBJECTS:
        raise MailError(f"{name!r} is not a mail of the module")
    pattern = SUBJECTS[name].get((iso or "").lower(), SUBJECTS[name][FALLBACK_ISO])
    values = {key: "" for key in MAILS.get(name, ())}
    values.update({key: str(value or "") for key, value in variables.items()})
    return " ".join(pattern.format(**values).split())


def build_message(*, sender: str, to: str, subject_line: str, html: str, text: str,
                  reply_to: str | None = None) -> email.message.EmailMessage:
    """A ``multipart/alternative`` message with a text and an HTML part.

    :raises ValueError: an address or the subject holds a line break (header injection).
    """
    for label, value in (("sender", sender), ("to", to), ("subject", subject_line),
                         ("reply_to", reply_to or "")):
        if "\n" in value or "\r" in value:
            raise ValueError(f"the {label} of a mail cannot hold a line break")
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject_line
    message["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
