"""Install, upgrade and uninstall the module on a shop, as a PrestaShop module's install() does.

:func:`install` creates the module's own ``{prefix}psonlinechat_*`` tables (InnoDB,
utf8mb4), records their schema version, and writes the default settings for every
language the shop offers, without touching a value the merchant already set: installing
twice is harmless. :func:`uninstall` removes exactly that: the own tables and every
``PSONLINECHAT_*`` configuration row with its ``configuration_lang`` rows.
:func:`upgrade` runs the modules of :mod:`psonlinechat.upgrades` newer than the recorded
version, in order, each in its own transaction followed by the new version number.
PrestaShop's own tables are never created or altered.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from . import module_settings as ms
from .errors import ShopError
from .repositories import configuration, module, schema
from .tables import SCHEMA_VERSION, Tables

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
_UPGRADE_NAME = re.compile(r"^v(\d{4})_\w+$")


class Upgrade(Protocol):
    """One upgrade module: ``VERSION`` (the schema version it brings) and ``upgrade()``."""

    VERSION: int

    def upgrade(self, conn: sa.Connection, tables: Tables) -> None: ...


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


def _connect(engine: sa.Engine, t: Tables) -> sa.Connection:
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as exc:
        raise ShopError(f"cannot reach the shop's database: {exc.orig}") from None
    missing = schema.missing_shop_tables(conn, t.prefix)
    if missing:
        conn.close()
        raise ShopError(f"the database has no PrestaShop tables with prefix {t.prefix!r} "
                        f"(missing: {', '.join(missing)})")
    return conn


def install(engine: sa.Engine, t: Tables, *, upgrades: Sequence[Upgrade] | None = None,
            target: int = SCHEMA_VERSION) -> Report:
    """Install the module (or complete or upgrade an earlier install).

    :param upgrades: see :func:`upgrade`, run when an earlier install is found.
    :param target: the schema version a new install records and an old one is brought to.

    :raises ShopError: the database is unreachable or lacks PrestaShop's tables, or was
        upgraded by a newer psonlinechat.
    """
    report = Report()
    with _connect(engine, t) as conn:
        recorded = module.schema_version(conn, t)
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
    if recorded is not None:
        report.upgraded_to = upgrade(engine, t, upgrades=upgrades, target=target).upgraded_to
    with engine.connect() as conn:
        report.schema_version = module.schema_version(conn, t)
    return report


def _write_defaults(conn: sa.Connection, t: Tables) -> list[str]:
    """Write every missing default globally; return the keys written."""
    langs = module.languages(conn, t)
    keys = ms.all_keys()
    present = configuration.get_many(conn, t, [*keys, "PS_SHOP_EMAIL", "PS_LANG_DEFAULT"])
    default_lang = present.get("PS_LANG_DEFAULT", "")
    iso_by_id = dict(langs)
    default_iso = iso_by_id.get(int(default_lang), "en") if str(default_lang).isdigit() else "en"
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


def uninstall(engine: sa.Engine, t: Tables) -> Report:
    """Drop the module's own tables and delete its configuration rows.

    :raises ShopError: the database is unreachable or lacks PrestaShop's tables.
    """
    report = Report()
    with _connect(engine, t) as conn:
        existing = set(sa.inspect(conn).get_table_names())
        removed = configuration.delete_prefix(conn, t, ms.KEY_PREFIX)
        conn.commit()
        t.own_metadata.drop_all(conn, checkfirst=True)
        conn.commit()
    report.dropped_tables = [table.name for table in t.own_tables if table.name in existing]
    report.deleted_rows = removed
    return report


def discover_upgrades() -> list[Upgrade]:
    """The upgrade modules ``psonlinechat/upgrades/vNNNN_*.py``, sorted by version.

    :raises RuntimeError: a module's ``VERSION`` disagrees with its name, or two share one.
    """
    from . import upgrades as package

    found: list[Upgrade] = []
    for info in pkgutil.iter_modules(package.__path__):
        match = _UPGRADE_NAME.match(info.name)
        if not match:
            continue
        mod = importlib.import_module(f"{package.__name__}.{info.name}")
        if getattr(mod, "VERSION", None) != int(match.group(1)) or not callable(
                getattr(mod, "upgrade", None)):
            raise RuntimeError(f"upgrade module {info.name} needs VERSION = "
                               f"{int(match.group(1))} and an upgrade(conn, tables) function")
        found.append(mod)  # type: ignore[arg-type]
    return _ordered(found)


def _ordered(upgrades: Iterable[Upgrade]) -> list[Upgrade]:
    ordered = sorted(upgrades, key=lambda u: u.VERSION)
    versions = [u.VERSION for u in ordered]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two upgrades share a version: {versions}")
    return ordered


def upgrade(engine: sa.Engine, t: Tables, *, upgrades: Sequence[Upgrade] | None = None,
            target: int = SCHEMA_VERSION,
            on_step: Callable[[int], None] | None = None) -> Report:
    """Bring the module's schema from its recorded version to ``target``.

    :param upgrades: the upgrade steps (default: :func:`discover_upgrades`).
    :param on_step: called with each version once it is recorded.
    :raises ShopError: the database is unreachable, lacks PrestaShop's tables, the module
        is not installed, its schema is newer than ``target``, or a step is missing.
    """
    steps = _ordered(discover_upgrades() if upgrades is None else upgrades)
    report = Report()
    with _connect(engine, t) as conn:
        recorded = module.schema_version(conn, t)
        if recorded is None:
            raise ShopError("the module is not installed in this shop: run `psonlinechat install`")
        if recorded > target:
            raise ShopError(f"the module's tables are at version {recorded}, newer than this "
                            f"psonlinechat ({target}): install a newer psonlinechat")
        pending = [step for step in steps if recorded < step.VERSION <= target]
        expected = list(range(recorded + 1, target + 1))
        if [step.VERSION for step in pending] != expected:
            raise ShopError(f"cannot upgrade the module's tables from version {recorded} to "
                            f"{target}: upgrades {expected} are needed, "
                            f"found {[step.VERSION for step in pending]}")
        conn.commit()
        for step in pending:
            # One transaction per step (MySQL commits DDL at once; the version row follows it).
            step.upgrade(conn, t)
            module.set_schema_version(conn, t, step.VERSION)
            conn.commit()
            report.upgraded_to.append(step.VERSION)
            if on_step:
                on_step(step.VERSION)
        report.schema_version = module.schema_version(conn, t)
    return report
