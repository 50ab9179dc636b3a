"""Table definitions: the PrestaShop tables the module touches, and the module's own.

PrestaShop's tables are declared with the columns that 1.7.8, 8.x and 9.x share (FACTS
§1.2–1.3); the one difference that matters, the ``date_add``/``date_upd`` columns that 8.0
added to the session tables, is a flag found by :func:`detect_features`. PrestaShop's
tables are never created or altered on a real shop: only the embedded demo creates them
(on SQLite) from these definitions.

The module's own tables are ``{prefix}psonlinechat_*``, InnoDB and utf8mb4.
"""

from __future__ import annotations

import dataclasses
import functools

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from psonlinechat.config import validate_table_prefix

#: DATETIME with microseconds on MySQL/MariaDB, a plain DateTime elsewhere.
PreciseDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
#: MEDIUMTEXT on MySQL/MariaDB (what 9.x uses for configuration values).
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
UnsignedInt = sa.Integer().with_variant(mysql.INTEGER(unsigned=True), "mysql", "mariadb")

_OWN_TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                   "mysql_collate": "utf8mb4_unicode_ci"}

#: The version of the module's own schema that this code writes; see ``upgrades``.
SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Features:
    """What differs between the PrestaShop schemas the module supports."""

    #: 8.0+ session tables carry ``date_add`` and ``date_upd``.
    session_dates: bool = True
    #: 1.7.7+ shops have ``customer_session``/``employee_session`` at all.
    sessions: bool = True


@dataclasses.dataclass(frozen=True)
class Tables:
    """Every table the module reads or writes, for one table prefix."""

    prefix: str
    features: Features
    shop_metadata: sa.MetaData
    own_metadata: sa.MetaData
    # PrestaShop's tables.
    shop_group: sa.Table
    shop: sa.Table
    shop_url: sa.Table
    lang: sa.Table
    lang_shop: sa.Table
    configuration: sa.Table
    configuration_lang: sa.Table
    customer: sa.Table
    customer_session: sa.Table
    guest: sa.Table
    operating_system: sa.Table
    web_browser: sa.Table
    address: sa.Table
    employee: sa.Table
    employee_session: sa.Table
    employee_shop: sa.Table
    # The module's own tables.
    meta: sa.Table
    conversation: sa.Table
    message: sa.Table
    operator: sa.Table
    shop_lock: sa.Table

    @property
    def own_tables(self) -> list[sa.Table]:
        """The module's own tables, in creation order."""
        return list(self.own_metadata.sorted_tables)


def _shop_tables(md: sa.MetaData, p: str, features: Features) -> dict[str, sa.Table]:
    def dates() -> list[sa.Column]:
        return [sa.Column("date_add", sa.DateTime, nullable=False),
                sa.Column("date_upd", sa.DateTime, nullable=False)]

    def session_dates() -> list[sa.Column]:
        return dates() if features.session_dates else []

    t: dict[str, sa.Table] = {}
    t["shop_group"] = sa.Table(
        p + "shop_group", md,
        sa.Column("id_shop_group", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("color", sa.String(50), nullable=False, default=""),
        sa.Column("share_customer", sa.Boolean, nullable=False, default=False),
        sa.Column("share_order", sa.Boolean, nullable=False, default=False),
        sa.Column("share_stock", sa.Boolean, nullable=False, default=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    )
    t["shop"] = sa.Table(
        p + "shop", md,
        sa.Column("id_shop", sa.Integer, primary_key=True),
        sa.Column("id_shop_group", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("color", sa.String(50), nullable=False, default=""),
        sa.Column("id_category", sa.Integer, nullable=False, default=2),
        sa.Column("theme_name", sa.String(255), nullable=False, default="classic"),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    )
    t["shop_url"] = sa.Table(
        p + "shop_url", md,
        sa.Column("id_shop_url", sa.Integer, primary_key=True),
        sa.Column("id_shop", sa.Integer, nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("domain_ssl", sa.String(255), nullable=False),
        sa.Column("physical_uri", sa.String(64), nullable=False, default="/"),
        sa.Column("virtual_uri", sa.String(64), nullable=False, default=""),
        sa.Column("main", sa.Boolean, nullable=False, default=True),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
    )
    t["lang"] = sa.Table(
        p + "lang", md,
        sa.Column("id_lang", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("iso_code", sa.String(2), nullable=False),
        sa.Column("language_code", sa.String(5), nullable=False),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("date_format_lite", sa.String(32), nullable=False, default="Y-m-d"),
        sa.Column("date_format_full", sa.String(32), nullable=False, default="Y-m-d H:i:s"),
        sa.Column("is_rtl", sa.Boolean, nullable=False, default=False),
    )
    t["lang_shop"] = sa.Table(
        p + "lang_shop", md,
        sa.Column("id_lang", sa.Integer, primary_key=True),
        sa.Column("id_shop", sa.Integer, primary_key=True),
    )
    t["configuration"] = sa.Table(
        p + "configuration", md,
        sa.Column("id_configuration", sa.Integer, primary_key=True),
        sa.Column("id_shop_group", sa.Integer, nullable=True),
        sa.Column("id_shop", sa.Integer, nullable=True),
        sa.Column("name", sa.String(254), nullable=False, index=True),
        sa.Column("value", LongText, nullable=True),
        *dates(),
    )
    t["configuration_lang"] = sa.Table(
        p + "configuration_lang", md,
        sa.Column("id_configuration", sa.Integer, primary_key=True),
        sa.Column("id_lang", sa.Integer, primary_key=True),
        sa.Column("value", LongText, nullable=True),
        sa.Column("date_upd", sa.DateTime, nullable=True),
    )
    t["customer"] = sa.Table(
        p + "customer", md,
        sa.Column("id_customer", sa.Integer, primary_key=True),
        sa.Column("id_shop_group", sa.Integer, nullable=False, default=1),
        sa.Column("id_shop", sa.Integer, nullable=False, default=1),
        sa.Column("id_gender", sa.Integer, nullable=False, default=0),
        sa.Column("id_default_group", sa.Integer, nullable=False, default=3),
        sa.Column("id_lang", sa.Integer, nullable=True),
        sa.Column("firstname", sa.String(255), nullable=False),
        sa.Column("lastname", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("passwd", sa.String(255), nullable=False),
        sa.Column("secure_key", sa.String(32), nullable=False, default="-1"),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("is_guest", sa.Boolean, nullable=False, default=False),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
        *dates(),
    )
    t["customer_session"] = sa.Table(
        p + "customer_session", md,
        sa.Column("id_customer_session", sa.Integer, primary_key=True),
        sa.Column("id_customer", sa.Integer, nullable=True),
        sa.Column("token", sa.String(40), nullable=True),
        *session_dates(),
    )
    t["guest"] = sa.Table(
        p + "guest", md,
        sa.Column("id_guest", sa.Integer, primary_key=True),
        sa.Column("id_operating_system", sa.Integer, nullable=True),
        sa.Column("id_web_browser", sa.Integer, nullable=True),
        sa.Column("id_customer", sa.Integer, nullable=True),
        sa.Column("javascript", sa.Boolean, nullable=True, default=False),
        sa.Column("accept_language", sa.String(8), nullable=True),
        sa.Column("mobile_theme", sa.Boolean, nullable=False, default=False),
    )
    t["operating_system"] = sa.Table(
        p + "operating_system", md,
        sa.Column("id_operating_system", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=True),
    )
    t["web_browser"] = sa.Table(
        p + "web_browser", md,
        sa.Column("id_web_browser", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=True),
    )
    t["address"] = sa.Table(
        p + "address", md,
        sa.Column("id_address", sa.Integer, primary_key=True),
        sa.Column("id_country", sa.Integer, nullable=False, default=8),
        sa.Column("id_customer", sa.Integer, nullable=False, default=0),
        sa.Column("alias", sa.String(32), nullable=False, default="My address"),
        sa.Column("lastname", sa.String(255), nullable=False),
        sa.Column("firstname", sa.String(255), nullable=False),
        sa.Column("address1", sa.String(128), nullable=False, default=""),
        sa.Column("city", sa.String(64), nullable=False, default=""),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("phone_mobile", sa.String(32), nullable=True),
        *dates(),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    )
    t["employee"] = sa.Table(
        p + "employee", md,
        sa.Column("id_employee", sa.Integer, primary_key=True),
        sa.Column("id_profile", sa.Integer, nullable=False, default=1),
        sa.Column("id_lang", sa.Integer, nullable=False, default=0),
        sa.Column("lastname", sa.String(255), nullable=False),
        sa.Column("firstname", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("passwd", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=False),
    )
    t["employee_shop"] = sa.Table(
        p + "employee_shop", md,
        sa.Column("id_employee", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id_shop", sa.Integer, primary_key=True, autoincrement=False),
    )
    t["employee_session"] = sa.Table(
        p + "employee_session", md,
        sa.Column("id_employee_session", sa.Integer, primary_key=True),
        sa.Column("id_employee", sa.Integer, nullable=True),
        sa.Column("token", sa.String(40), nullable=True),
        *session_dates(),
    )
    return t


def _own_tables(md: sa.MetaData, p: str) -> dict[str, sa.Table]:
    name = p + "psonlinechat_"
    t: dict[str, sa.Table] = {}
    t["meta"] = sa.Table(
        name + "meta", md,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        **_OWN_TABLE_ARGS,
    )
    t["conversation"] = sa.Table(
        name + "conversation", md,
        sa.Column("id_conversation", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id_shop", sa.Integer, nullable=False),
        sa.Column("id_lang", sa.Integer, nullable=False),
        # the signed-in customer, else the guest created for this conversation
        sa.Column("id_customer", sa.Integer, nullable=True),
        sa.Column("id_guest", sa.Integer, nullable=True),
        # ongoing / finished / archived
        sa.Column("status", sa.String(16), nullable=False, default="ongoing"),
        # customer / operator / system, and the employee when an operator ended it
        sa.Column("ended_by", sa.String(16), nullable=True),
        sa.Column("id_employee_ended", sa.Integer, nullable=True),
        # sha256 hex of the visitor's resume token; the token itself is never stored
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        # the sequence number of the conversation's last event
        sa.Column("last_seq", sa.Integer, nullable=False, default=0),
        # the highest seq each side has marked as seen
        sa.Column("customer_seen_seq", sa.Integer, nullable=False, default=0),
        sa.Column("operator_seen_seq", sa.Integer, nullable=False, default=0),
        sa.Column("last_customer_message", sa.Text, nullable=True),
        sa.Column("last_customer_message_at", PreciseDateTime, nullable=True),
        sa.Column("last_message_at", PreciseDateTime, nullable=True),
        sa.Column("page_url", sa.String(2048), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        # dates are UTC in the module's own tables
        sa.Column("date_add", PreciseDateTime, nullable=False),
        sa.Column("date_upd", PreciseDateTime, nullable=False),
        sa.Column("date_end", PreciseDateTime, nullable=True),
        sa.Column("date_archived", PreciseDateTime, nullable=True),
        # the recap (ongoing / finished) and the history table (archived, newest first)
        sa.Index(name + "conversation_status", "id_shop", "status", "last_message_at"),
        sa.Index(name + "conversation_customer", "id_customer"),
        sa.Index(name + "conversation_guest", "id_guest"),
        **_OWN_TABLE_ARGS,
    )
    t["message"] = sa.Table(
        name + "message", md,
        sa.Column("id_message", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("id_conversation", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        # message / ended / reopened: every logged event of the conversation
        sa.Column("kind", sa.String(16), nullable=False, default="message"),
        # customer / operator / system
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("id_employee", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=False, default=""),
        # the sender's own id of the message: a resend is recognised by it
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("date_add", PreciseDateTime, nullable=False),
        sa.Column("date_seen", PreciseDateTime, nullable=True),
        # "events after N" walks this unique index
        sa.UniqueConstraint("id_conversation", "seq", name=name + "message_seq"),
        sa.UniqueConstraint("id_conversation", "author", "client_id",
                            name=name + "message_client"),
        **_OWN_TABLE_ARGS,
    )
    t["operator"] = sa.Table(
        name + "operator", md,
        sa.Column("id_employee", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id_shop", sa.Integer, primary_key=True, autoincrement=False),
        # the employee's switch: online or offline
        sa.Column("online", sa.Boolean, nullable=False, default=False),
        # open operator sockets, over every worker
        sa.Column("sockets", sa.Integer, nullable=False, default=0),
        # refreshed by each socket's heartbeat and when a socket closes
        sa.Column("last_seen", PreciseDateTime, nullable=False),
        sa.Column("date_online", PreciseDateTime, nullable=True),
        sa.Index(name + "operator_shop", "id_shop", "online"),
        **_OWN_TABLE_ARGS,
    )
    # one row per shop, locked (SELECT ... FOR UPDATE) while a conversation is opened
    # against the capacity or while operators go offline, so that those never interleave
    t["shop_lock"] = sa.Table(
        name + "shop_lock", md,
        sa.Column("id_shop", sa.Integer, primary_key=True, autoincrement=False),
        **_OWN_TABLE_ARGS,
    )
    return t


@functools.lru_cache(maxsize=32)
def build(prefix: str = "ps_", features: Features = Features()) -> Tables:
    """Declare every table for ``prefix``; the result is cached and shared.

    :raises ConfigError: the prefix is not a valid table prefix.
    """
    validate_table_prefix(prefix)
    shop_md, own_md = sa.MetaData(), sa.MetaData()
    return Tables(prefix=prefix, features=features, shop_metadata=shop_md,
                  own_metadata=own_md, **_shop_tables(shop_md, prefix, features),
                  **_own_tables(own_md, prefix))
