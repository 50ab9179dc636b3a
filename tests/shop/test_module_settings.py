"""The merchant's settings: validation, save, and a cache no process serves stale."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import threading

import pytest
import sqlalchemy as sa

from psonlinechat.errors import SettingsError, ShopError
from psonlinechat.shop import installer
from psonlinechat.shop import settings as ms
from psonlinechat.shop.settings_store import SettingsStore
from psonlinechat.store import configuration, module
from psonlinechat.web.extension import get_state
from tests.support import shopdb
from tests.support.apps import chat_app


@pytest.fixture
def installed(shop_db):
    """shop_db with the module installed, uninstalled again after the test."""
    installer.install(shop_db.engine, shop_db.tables)
    yield shop_db
    installer.uninstall(shop_db.engine, shop_db.tables)


def count_queries(conn):
    statements: list[str] = []
    sa.event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_defaults_after_install(installed):
    db = installed
    en, fr = db.ids["en"], db.ids["fr"]
    with db.engine.connect() as conn:
        settings = SettingsStore().get(conn, db.tables, db.ids["shop"])
    assert settings.max_chats == 10 and settings.offline_mode and settings.sounds
    assert settings.notify_email == shopdb.SHOP_EMAIL
    assert settings.header_text[fr] == "Une question ? Discutons"
    assert settings.text("welcome_text", en) == "Hello! How can we help you today?"
    assert settings.text("welcome_text", 999) == settings.welcome_text[en]  # default language
    assert settings.offline_fields["message"] == "required"


def test_save_round_trip_with_newlines_and_markup(installed):
    db = installed
    fr = db.ids["fr"]
    store = SettingsStore()
    text = "Bonjour <b>toi</b>\nDeuxième ligne"
    with db.engine.connect() as conn:
        saved = store.save(conn, db.tables, db.ids["shop"], {
            "operator_name": "  Julie ", "max_chats": "3", "sounds": "0",
            "header_background": "#AABBCC", "welcome_text": {str(fr): text},
            "offline_fields": {"phone": "required"}})
    assert saved.operator_name == "Julie" and saved.max_chats == 3 and saved.sounds is False
    assert saved.header_background == "#aabbcc"
    with db.engine.connect() as conn:
        again = SettingsStore().get(conn, db.tables, db.ids["shop"])
    assert again == saved
    assert again.welcome_text[fr] == text  # stored as an HTML value: newlines survive
    assert again.welcome_text[db.ids["en"]] == "Hello! How can we help you today?"
    assert again.offline_fields == {**ms.ModuleSettings().offline_fields, "phone": "required"}


def test_save_a_whole_settings_object(installed):
    db = installed
    store = SettingsStore()
    with db.engine.connect() as conn:
        current = store.get(conn, db.tables, db.ids["shop"])
        changed = dataclasses.replace(current, operator_name="Max", customer_color="#000000")
        # the read above began a transaction: the save joins it, and the caller commits
        assert store.save(conn, db.tables, db.ids["shop"], changed) == changed
        conn.commit()
    with db.engine.connect() as conn:
        assert SettingsStore().get(conn, db.tables, db.ids["shop"]) == changed


@pytest.mark.parametrize("changes, field", [
    ({"max_chats": 0}, "max_chats"),
    ({"max_chats": 101}, "max_chats"),
    ({"max_chats": "ten"}, "max_chats"),
    ({"max_chats": True}, "max_chats"),
    ({"header_color": "red"}, "header_color"),
    ({"header_color": "#abc"}, "header_color"),
    ({"header_color": "#abcdef; x"}, "header_color"),
    ({"notify_email": "not-an-email"}, "notify_email"),
    ({"notify_email": "a@b.c\nBcc: x@y.z"}, "notify_email"),
    ({"notify_email": ""}, "notify_email"),  # offline mode is on
    ({"operator_name": ""}, "operator_name"),
    ({"operator_name": "x" * 65}, "operator_name"),
    ({"operator_name": "two\nlines"}, "operator_name"),
    ({"sounds": "maybe"}, "sounds"),
    ({"welcome_text": "not a mapping"}, "welcome_text"),
    ({"welcome_text": {"en": "x"}}, "welcome_text"),
    ({"header_text": {1: "x" * 101}}, "header_text"),
    ({"offline_fields": {"age": "required"}}, "offline_fields"),
    ({"offline_fields": {"phone": "always"}}, "offline_fields"),
    ({"offline_fields": {"message": "hidden"}}, "offline_fields"),
    ({"colour_of_the_sky": "#000000"}, "colour_of_the_sky"),
])
def test_invalid_values_are_refused_and_nothing_is_written(installed, changes, field):
    db = installed
    store = SettingsStore()
    with db.engine.connect() as conn:
        before = store.get(conn, db.tables, db.ids["shop"])
        revision = module.settings_revision(conn, db.tables)
        with pytest.raises(SettingsError) as info:
            store.save(conn, db.tables, db.ids["shop"], {"operator_name": "Changed", **changes})
        assert field in info.value.errors
        conn.rollback()
        assert module.settings_revision(conn, db.tables) == revision
        assert store.get(conn, db.tables, db.ids["shop"]) == before


def test_empty_notify_email_is_fine_with_offline_mode_off(installed):
    db = installed
    with db.engine.connect() as conn:
        saved = SettingsStore().save(conn, db.tables, db.ids["shop"],
                                        {"offline_mode": False, "notify_email": ""})
    assert saved.offline_mode is False and saved.notify_email == ""


def test_cache_costs_one_query_when_current(installed):
    db = installed
    store = SettingsStore()
    with db.engine.connect() as conn:
        store.get(conn, db.tables, db.ids["shop"])
        statements = count_queries(conn)
        first = store.get(conn, db.tables, db.ids["shop"])
        second = store.get(conn, db.tables, db.ids["shop"])
    assert first is second
    assert len(statements) == 2  # one revision check per call, nothing else


def test_save_in_one_store_is_seen_by_another_engine(installed):
    db = installed
    other_engine = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
    mine, theirs = SettingsStore(), SettingsStore()
    try:
        with other_engine.connect() as conn:
            assert theirs.get(conn, db.tables, db.ids["shop"]).max_chats == 10
        with db.engine.connect() as conn:
            mine.save(conn, db.tables, db.ids["shop"], {"max_chats": 7})
        with other_engine.connect() as conn:
            assert theirs.get(conn, db.tables, db.ids["shop"]).max_chats == 7
    finally:
        other_engine.dispose()


def test_save_in_another_process_invalidates_this_cache(installed):
    db = installed
    store = SettingsStore()
    with db.engine.connect() as conn:
        assert store.get(conn, db.tables, db.ids["shop"]).operator_name == "Customer service"
    script = textwrap.dedent(f"""
        import sqlalchemy as sa
        from psonlinechat.shop.settings_store import SettingsStore
        from psonlinechat.store import tables
        engine = sa.create_engine({db.url!r}, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            SettingsStore().save(conn, tables.build({db.prefix!r}), {db.ids["shop"]},
                                 {{"operator_name": "Other process"}})
        engine.dispose()
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with db.engine.connect() as conn:
        assert store.get(conn, db.tables, db.ids["shop"]).operator_name == "Other process"


def test_rolled_back_save_leaves_no_trace(installed):
    db = installed
    store = SettingsStore()
    with db.engine.connect() as conn:
        with conn.begin() as transaction:
            assert store.save(conn, db.tables, db.ids["shop"], {"max_chats": 42}).max_chats == 42
            transaction.rollback()
        assert store.get(conn, db.tables, db.ids["shop"]).max_chats == 10


def test_multistore_saves_per_shop(installed):
    from psonlinechat.store import seed

    db = installed
    with db.engine.begin() as conn:
        other = seed.add_shop(conn, db.tables, db.ids["shop_group"], "Other", domain="o.test")
        seed.add_configuration(conn, db.tables, configuration.MULTISHOP_KEY, "1")
    store = SettingsStore()
    try:
        with db.engine.connect() as conn:
            store.save(conn, db.tables, other, {"max_chats": 5})
            assert store.get(conn, db.tables, other).max_chats == 5
            assert store.get(conn, db.tables, db.ids["shop"]).max_chats == 10
    finally:
        with db.engine.begin() as conn:
            configuration.delete(conn, db.tables, [configuration.MULTISHOP_KEY])
            conn.execute(sa.delete(db.tables.shop_url).where(db.tables.shop_url.c.id_shop == other))
            conn.execute(sa.delete(db.tables.shop).where(db.tables.shop.c.id_shop == other))


def test_not_installed_is_a_clear_error(shop_db):
    with shop_db.engine.connect() as conn, pytest.raises(ShopError, match="psonlinechat install"):
        SettingsStore().get(conn, shop_db.tables, shop_db.ids["shop"])


def test_state_and_edge_read_once_per_request(installed):
    from psonlinechat.web import request_memo as edge

    db = installed
    app = chat_app(db)
    state = get_state(app)
    assert isinstance(state.shop.settings_store, SettingsStore)
    calls = []
    original = state.module_settings
    state.module_settings = lambda conn, id_shop: calls.append(id_shop) or original(conn, id_shop)
    try:
        with app.test_request_context("/"):
            first = edge.module_settings(db.ids["shop"])
            assert edge.module_settings(db.ids["shop"]) is first
        with app.test_request_context("/"):
            edge.module_settings(db.ids["shop"])
    finally:
        state.engine.dispose()
    assert calls == [db.ids["shop"], db.ids["shop"]]
    assert first.notify_email == shopdb.SHOP_EMAIL


def test_a_rolled_back_save_cannot_shadow_a_later_one(installed):
    db, shop = installed, installed.ids["shop"]
    store = SettingsStore()
    with db.engine.connect() as conn, conn.begin() as transaction:
        store.save(conn, db.tables, shop, {"max_chats": 42})
        assert store.get(conn, db.tables, shop).max_chats == 42  # cached, uncommitted
        transaction.rollback()
    with db.engine.connect() as conn:  # another worker's save, the next one to commit
        SettingsStore().save(conn, db.tables, shop, {"operator_name": "Other worker"})
    with db.engine.connect() as conn:
        seen = store.get(conn, db.tables, shop)
    assert (seen.max_chats, seen.operator_name) == (10, "Other worker")


def test_a_reinstall_cannot_bring_back_the_settings_of_the_old_install(installed):
    db, shop = installed, installed.ids["shop"]
    store, theirs = SettingsStore(), SettingsStore()
    with db.engine.connect() as conn:
        theirs.save(conn, db.tables, shop, {"max_chats": 7})
    with db.engine.connect() as conn:
        assert store.get(conn, db.tables, shop).max_chats == 7
    installer.uninstall(db.engine, db.tables)
    installer.install(db.engine, db.tables)
    with db.engine.connect() as conn:
        theirs.save(conn, db.tables, shop, {"operator_name": "After reinstall"})
    with db.engine.connect() as conn:
        seen = store.get(conn, db.tables, shop)
    assert (seen.max_chats, seen.operator_name) == (10, "After reinstall")


def test_concurrent_saves_queue_so_cross_field_rules_hold(installed):
    db, shop = installed, installed.ids["shop"]
    store = SettingsStore()
    with db.engine.connect() as first, db.engine.connect() as second:
        first.begin()
        store.save(first, db.tables, shop, {"offline_mode": False, "notify_email": ""})
        outcome: list[BaseException | ms.ModuleSettings] = []

        def save_second() -> None:
            try:
                outcome.append(SettingsStore().save(second, db.tables, shop,
                                                       {"offline_mode": True}))
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                outcome.append(exc)

        worker = threading.Thread(target=save_second)
        worker.start()
        worker.join(0.5)  # gives it time to reach the first save's lock, if it has to wait
        first.commit()
        worker.join(30)
    [result] = outcome
    assert isinstance(result, SettingsError) and "notify_email" in result.errors


def test_digit_like_characters_in_the_stored_numbers_fall_back_to_the_defaults():
    read = ms.from_configuration({"PSONLINECHAT_MAX_CHATS": "²", "PS_LANG_DEFAULT": "３"})
    assert read.max_chats == ms.ModuleSettings().max_chats
    assert read.default_lang == ms.ModuleSettings().default_lang
    assert ms.from_configuration({"PSONLINECHAT_MAX_CHATS": " 7 ",
                                  "PS_LANG_DEFAULT": "2"}).max_chats == 7
