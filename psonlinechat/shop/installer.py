"""Install, upgrade and uninstall the module on a shop, as a PrestaShop module's install() does.

:func:`install` creates the module's own ``{prefix}psonlinechat_*`` tables (InnoDB,
utf8mb4), records their schema version, and writes the default settings for every
language the shop offers, without touching a value the merchant already set: installing
twice is harmless. :func:`uninstall` removes exactly that: the own tables and every
``PSONLINECHAT_*`` configuration row with its ``configuration_lang`` rows.
:func:`upgrade` runs the modules of :mod:`psonlinechat.store.upgrades` newer than the recorded
version, in order, each in its own transaction followed by the new version number.
All three hold a lock on the shop (a MySQL named lock), so that two processes never run
them at once. PrestaShop's own tables are never created or altered.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from psonlinechat.errors import ShopError
from psonlinechat.prestashop.php import ascii_digits
from psonlinechat.shop import settings as ms
from psonlinechat.shop.database import connection
from psonlinechat.store import configuration, module, schema
from psonlinechat.store.tables import SCHEMA_VERSION, Tables
from psonlinechat.store.upgrades import Upgrade
from psonlinechat.store.upgrades import run as run_upgrades

#: Default texts by language iso code: (operator name, header, welcome, offline header,
#: offline welcome). Languages not listed get the English ones.
DEFAULT_TEXTS: dict[str, tuple[str, str, str, str, str]] = {
    "en": ("Customer service", "Questions? Chat with us",
           "Hello! How can we help you today?", "Leave us a message",
           "We are offline right now. Leave us a message and we will reply by email as soon "
           "as we can."),
    "fr": ("Service client", "Une question ? Discutons",
           "Bonjour ! Comment pouvons-nous vous aider ?", "Laissez-nous un message",
           "Nous ne sommes pas disponibles pour le moment. Laissez-nous un message et nous "
           "vous répondrons par e-mail dès que possible."),
    "es": ("Atención al cliente", "¿Preguntas? Chatee con nosotros",
           "¡Hola! ¿En qué podemos ayudarle hoy?", "Déjenos un mensaje",
           "Ahora mismo no estamos disponibles. Déjenos un mensaje y le responderemos por "
           "correo electrónico lo antes posible."),
    "de": ("Kundenservice", "Fragen? Chatten Sie mit uns",
           "Hallo! Wie können wir Ihnen heute helfen?", "Hinterlassen Sie uns eine Nachricht",
           "Wir sind gerade nicht erreichbar. Hinterlassen Sie uns eine Nachricht, und wir "
           "antworten Ihnen so bald wie möglich per E-Mail."),
    "it": ("Servizio clienti", "Domande? Chatta con noi",
           "Ciao! Come possiamo aiutarti oggi?", "Lasciaci un messaggio",
           "Al momento non siamo disponibili. Lasciaci un messaggio e ti risponderemo via "
           "e-mail il prima possibile."),
    "nl": ("Klantenservice", "Vragen? Chat met ons",
           "Hallo! Hoe kunnen we u vandaag helpen?", "Laat een bericht achter",
           "We zijn nu niet bereikbaar. Laat een bericht achter, dan antwoorden we zo snel "
           "mogelijk per e-mail."),
    "pt": ("Apoio ao cliente", "Dúvidas? Fale connosco",
           "Olá! Como podemos ajudar hoje?", "Deixe-nos uma mensagem",
           "De momento não estamos disponíveis. Deixe-nos uma mensagem e responderemos por "
           "e-mail o mais rapidamente possível."),
    "br": ("Atendimento ao cliente", "Dúvidas? Fale com a gente",
           "Olá! Como podemos ajudar hoje?", "Deixe uma mensagem",
           "No momento não estamos disponíveis. Deixe uma mensagem e responderemos por "
           "e-mail assim que possível."),
    "pl": ("Obsługa klienta", "Pytania? Porozmawiaj z nami",
           "Dzień dobry! Jak możemy pomóc?", "Zostaw nam wiadomość",
           "W tej chwili nie jesteśmy dostępni. Zostaw nam wiadomość, a odpowiemy e-mailem "
           "najszybciej, jak to możliwe."),
}
_TEXT_FIELDS = ("header_text", "welcome_text", "offline_header_text", "offline_welcome_text")
#: Seconds an install, upgrade or uninstall waits for another one on the same shop.
LOCK_TIMEOUT = 60


@dataclasses.dataclass
class Report:
    """What an install or upgrade did."""

    created_tables: list[str] = dataclasses.field(default_factory=list)
    written_keys: list[str] = dataclasses.field(default_factory=list)
    upgraded_to: list[int] = dataclasses.field(default_factory=list)
    schema_version: int | None = None
    dropped_tables: list[str] = dataclasses.field(default_factory=list)
    deleted_rows: int = 0


def defaults_for(iso_code: str) -> tuple[str, str, str, str, str]:
    """The default texts of a language (English when it has none)."""
    return DEFAULT_TEXTS.get(iso_code.lower(), DEFAULT_TEXTS["en"])


@contextlib.contextmanager
def _session(engine: sa.Engine, t: Tables, lock_timeout: int) -> Iterator[sa.Connection]:
    """A connection to the shop holding the install lock, so that installs, upgrades and
    uninstalls from several processes run one after the other; what the block leaves
    uncommitted is rolled back.

    :raises ShopError: the database is unreachable or lacks PrestaShop's tables, or another
        process kept the lock for ``lock_timeout`` seconds.
    """
    with connection(engine) as conn:  # the database failing becomes ShopError there
        schema.require_shop_tables(conn, t.prefix)
        if not module.acquire_install_lock(conn, t, lock_timeout):
            raise ShopError(f"another install, upgrade or uninstall of psonlinechat is running on "
                            f"this shop (waited {lock_timeout} s): try again once it is over")
        try:
            yield conn
        finally:
            try:
                conn.rollback()
                module.release_install_lock(conn, t)
            except sa.exc.DBAPIError:
                conn.invalidate()  # closing the session is what releases the lock then


def install(engine: sa.Engine, t: Tables, *, upgrades: Sequence[Upgrade] | None = None,
            target: int = SCHEMA_VERSION, lock_timeout: int = LOCK_TIMEOUT) -> Report:
    """Install the module (or complete, or upgrade, an earlier install).

    A new install creates the tables at :data:`~psonlinechat.store.tables.SCHEMA_VERSION`; an
    earlier one is upgraded first (see :func:`upgrade`), then any missing table is created.

    :param upgrades: see :func:`upgrade`, run when an earlier install is found.
    :param target: the schema version an earlier install is brought to.
    :param lock_timeout: seconds to wait while another process installs, upgrades or uninstalls.
    :raises ShopError: the database is unreachable or lacks PrestaShop's tables, the install
        lock stayed taken, the tables are newer than ``target``, or an upgrade failed.
    """
    report = Report()
    with _session(engine, t, lock_timeout) as conn:
        recorded = module.schema_version(conn, t)
        if recorded is not None:
            report.upgraded_to = run_upgrades(conn, t, recorded, target, upgrades)
        existing = set(sa.inspect(conn).get_table_names())
        t.own_metadata.create_all(conn, checkfirst=True)
        conn.commit()
        report.created_tables = [table.name for table in t.own_tables if table.name not in existing]
        if recorded is None:
            module.set_schema_version(conn, t, SCHEMA_VERSION)
        report.written_keys = _write_defaults(conn, t)
        if report.written_keys or module.settings_revision(conn, t) is None:
            module.new_settings_revision(conn, t)
        conn.commit()
        report.schema_version = module.schema_version(conn, t)
    return report


def _write_defaults(conn: sa.Connection, t: Tables) -> list[str]:
    """Write every missing default globally; return the keys written."""
    langs = module.languages(conn, t)
    keys = ms.all_keys()
    present = configuration.get_many(conn, t, [*keys, "PS_SHOP_EMAIL", "PS_LANG_DEFAULT"])
    default_lang = present.get("PS_LANG_DEFAULT", "")
    iso_by_id = dict(langs)
    id_lang = ascii_digits(default_lang) if isinstance(default_lang, str) else None
    default_iso = "en" if id_lang is None else iso_by_id.get(id_lang, "en")
    base = ms.ModuleSettings()
    plain: dict[str, Any] = {
        "operator_name": defaults_for(default_iso)[0], "sounds": base.sounds,
        "max_chats": base.max_chats, "offline_mode": base.offline_mode,
        "notify_email": present.get("PS_SHOP_EMAIL", ""),
        **{field: getattr(base, field) for field in ms.COLOUR_FIELDS},
    }
    writes: dict[str, Any] = {}
    for field, value in plain.items():
        if ms.key_name(field) not in present:
            writes[ms.key_name(field)] = "1" if value is True else "0" if value is False else value
    for field, state in base.offline_fields.items():
        if ms.offline_field_key(field) not in present:
            writes[ms.offline_field_key(field)] = state
    for index, field in enumerate(_TEXT_FIELDS, start=1):
        current = present.get(ms.key_name(field))
        if current is not None and not isinstance(current, dict):
            continue  # a plain row the merchant (or someone) wrote: leave it alone
        have = current or {}
        missing = {id_lang: defaults_for(iso)[index] for id_lang, iso in langs
                   if id_lang not in have}
        if missing:
            writes[ms.key_name(field)] = missing
    if not writes:
        return []
    now = configuration.shop_now(conn, t)
    for name, value in writes.items():
        configuration.update_value(conn, t, name, value, html=isinstance(value, dict),
                                   now=now, scope=(None, None))
    return list(writes)


def uninstall(engine: sa.Engine, t: Tables, *, lock_timeout: int = LOCK_TIMEOUT) -> Report:
    """Drop the module's own tables, then delete its configuration rows.

    The tables go first: from then on every process reads "not installed" rather than
    settings half deleted. Running it again finishes an interrupted uninstall.

    :param lock_timeout: seconds to wait while another process installs, upgrades or uninstalls.
    :raises ShopError: the database is unreachable or lacks PrestaShop's tables, or the
        install lock stayed taken.
    """
    report = Report()
    with _session(engine, t, lock_timeout) as conn:
        existing = set(sa.inspect(conn).get_table_names())
        t.own_metadata.drop_all(conn, checkfirst=True)
        conn.commit()
        report.deleted_rows = configuration.delete_prefix(conn, t, ms.KEY_PREFIX)
        conn.commit()
    report.dropped_tables = [table.name for table in t.own_tables if table.name in existing]
    return report


def upgrade(engine: sa.Engine, t: Tables, *, upgrades: Sequence[Upgrade] | None = None,
            target: int = SCHEMA_VERSION, on_step: Callable[[int], None] | None = None,
            lock_timeout: int = LOCK_TIMEOUT) -> Report:
    """Bring the module's schema from its recorded version to ``target``.

    Each step runs in its own transaction with its new version number, so a failure leaves
    the version of the last step that completed: fix the cause and run it again.

    :param upgrades: the upgrade steps (default: :func:`psonlinechat.store.upgrades.discover`).
    :param on_step: called with each version once it is recorded.
    :param lock_timeout: seconds to wait while another process installs, upgrades or uninstalls.
    :raises ShopError: the database is unreachable, lacks PrestaShop's tables, the install
        lock stayed taken, the module is not installed, its schema is newer than ``target``,
        a step is missing, or a step failed.
    """
    report = Report()
    with _session(engine, t, lock_timeout) as conn:
        recorded = module.schema_version(conn, t)
        if recorded is None:
            raise ShopError("the module is not installed in this shop: run `psonlinechat install`")
        report.upgraded_to = run_upgrades(conn, t, recorded, target, upgrades, on_step)
        report.schema_version = module.schema_version(conn, t)
    return report
