"""Install, uninstall and upgrade on real shops: exact clean-up, idempotence, ordered upgrades."""

from __future__ import annotations

import threading
import types

import pytest
import sqlalchemy as sa

from psonlinechat.errors import ShopError
from psonlinechat.shop import installer
from psonlinechat.shop import settings as ms
from psonlinechat.shop.settings_store import SettingsStore
from psonlinechat.store import configuration, module, seed, upgrades
from psonlinechat.store import tables as tables_module
from tests.support import shopdb


def snapshot(db: shopdb.ShopDatabase) -> dict:
    """The database's structure (tables, columns, indexes) and configuration rows."""
    queries = {
        "tables": "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
                  "WHERE TABLE_SCHEMA = %s ORDER BY 1",
        "columns": "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, "
                   "COLUMN_TYPE, COLLATION_NAME, EXTRA FROM information_schema.COLUMNS "
                   "WHERE TABLE_SCHEMA = %s ORDER BY 1, 3",
        "indexes": "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE "
                   "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s ORDER BY 1, 2, 3",
    }
    out = {}
    with shopdb.raw_connect(db.name) as conn, conn.cursor() as cur:
        for name, sql in queries.items():
            cur.execute(sql, (db.name,))
            out[name] = cur.fetchall()
        cur.execute("SELECT id_configuration, id_shop_group, id_shop, name, value, date_add, "
                    f"date_upd FROM `{db.prefix}configuration` ORDER BY 1")
        out["configuration"] = cur.fetchall()
        cur.execute(f"SELECT * FROM `{db.prefix}configuration_lang` ORDER BY 1, 2")
        out["configuration_lang"] = cur.fetchall()
    return out


@pytest.fixture
def fresh(shop_db):
    """A database of its own per test (install/uninstall change the schema)."""
    db = shopdb.create(shop_db.prefix)
    yield db
    db.drop()


def table_options(db, name):
    with shopdb.raw_connect(db.name) as conn, conn.cursor() as cur:
        cur.execute("SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", (db.name, name))
        return cur.fetchone()


def test_install_then_uninstall_leaves_everything_as_before(fresh):
    before = snapshot(fresh)
    report = installer.install(fresh.engine, fresh.tables)
    assert sorted(report.created_tables) == sorted(t.name for t in fresh.tables.own_tables)
    middle = snapshot(fresh)
    assert len(middle["tables"]) == len(before["tables"]) + len(fresh.tables.own_tables)
    for table in fresh.tables.own_tables:
        engine, collation = table_options(fresh, table.name)
        assert engine == "InnoDB" and collation.startswith("utf8mb4")
    removed = installer.uninstall(fresh.engine, fresh.tables)
    assert removed.deleted_rows == len(ms.all_keys())
    assert snapshot(fresh) == before


def test_uninstall_removes_merchant_rows_in_every_scope(fresh):
    installer.install(fresh.engine, fresh.tables)
    before_rows = snapshot(fresh)["configuration"]
    with fresh.engine.begin() as conn:
        seed.add_configuration(conn, fresh.tables, "PSONLINECHAT_MAX_CHATS", "4",
                               id_shop_group=fresh.ids["shop_group"], id_shop=fresh.ids["shop"])
        seed.add_configuration(conn, fresh.tables, "PSONLINECHATTER", "not ours")
    installer.uninstall(fresh.engine, fresh.tables)
    names = [row[3] for row in snapshot(fresh)["configuration"]]
    assert not [n for n in names if n.startswith("PSONLINECHAT_")]
    assert "PSONLINECHATTER" in names
    assert len(before_rows) > len(names) - 1


def test_install_twice_is_harmless_and_keeps_merchant_changes(fresh):
    installer.install(fresh.engine, fresh.tables)
    fr = fresh.ids["fr"]
    with fresh.engine.connect() as conn:
        SettingsStore().save(conn, fresh.tables, fresh.ids["shop"],
                                {"max_chats": 3, "welcome_text": {fr: "Coucou"}})
    before = snapshot(fresh)
    again = installer.install(fresh.engine, fresh.tables)
    assert again.created_tables == [] and again.written_keys == [] and again.upgraded_to == []
    assert snapshot(fresh) == before
    with fresh.engine.connect() as conn:
        settings = SettingsStore().get(conn, fresh.tables, fresh.ids["shop"])
    assert settings.max_chats == 3 and settings.welcome_text[fr] == "Coucou"


def test_defaults_for_every_language_of_the_shop(fresh):
    t = fresh.tables
    with fresh.engine.begin() as conn:
        de = seed.add_lang(conn, t, "de", "Deutsch (German)", [fresh.ids["shop"]])
        ja = seed.add_lang(conn, t, "ja", "日本語 (Japanese)", [fresh.ids["shop"]])
        off = seed.add_lang(conn, t, "es", "Español (Spanish)", [fresh.ids["shop"]], active=False)
        elsewhere = seed.add_lang(conn, t, "it", "Italiano (Italian)", [])
    report = installer.install(fresh.engine, t)
    assert "PSONLINECHAT_WELCOME_TEXT" in report.written_keys
    with fresh.engine.connect() as conn:
        settings = SettingsStore().get(conn, t, fresh.ids["shop"])
        raw = configuration.get_many(conn, t, ["PSONLINECHAT_SOUNDS", "PSONLINECHAT_MAX_CHATS"])
    en, fr = fresh.ids["en"], fresh.ids["fr"]
    for field in ("header_text", "welcome_text", "offline_header_text", "offline_welcome_text"):
        texts = getattr(settings, field)
        assert set(texts) == {en, fr, de, ja}, field
        assert all(texts.values())
        assert texts[ja] == texts[en]  # English fallback
        assert off not in texts and elsewhere not in texts
    assert settings.welcome_text[de] == "Hallo! Wie können wir Ihnen heute helfen?"
    assert settings.offline_header_text[fr] == "Laissez-nous un message"
    assert settings.operator_name == "Customer service"
    assert settings.notify_email == shopdb.SHOP_EMAIL and settings.offline_mode
    assert raw == {"PSONLINECHAT_SOUNDS": "1", "PSONLINECHAT_MAX_CHATS": "10"}
    with fresh.engine.connect() as conn:
        assert module.schema_version(conn, t) == tables_module.SCHEMA_VERSION


def test_a_language_added_later_gets_defaults_on_reinstall(fresh):
    installer.install(fresh.engine, fresh.tables)
    with fresh.engine.begin() as conn:
        nl = seed.add_lang(conn, fresh.tables, "nl", "Nederlands (Dutch)", [fresh.ids["shop"]])
    report = installer.install(fresh.engine, fresh.tables)
    assert set(report.written_keys) == {ms.key_name(f) for f in ms.TEXT_FIELDS}
    with fresh.engine.connect() as conn:
        settings = SettingsStore().get(conn, fresh.tables, fresh.ids["shop"])
    assert settings.header_text[nl] == "Vragen? Chat met ons"


def test_operator_name_follows_the_default_language(fresh):
    with fresh.engine.begin() as conn:
        configuration.update_value(conn, fresh.tables, "PS_LANG_DEFAULT", fresh.ids["fr"])
    installer.install(fresh.engine, fresh.tables)
    with fresh.engine.connect() as conn:
        name = configuration.get(conn, fresh.tables, "PSONLINECHAT_OPERATOR_NAME")
        assert name == "Service client"


def install_at_version_1(db):
    """An install as version 1 left it: the fake upgrades below start from there."""
    installer.install(db.engine, db.tables)
    with db.engine.begin() as conn:
        module.set_schema_version(conn, db.tables, 1)


def fake_upgrade(version, log):
    def upgrade(conn, tables):
        recorded = module.schema_version(conn, tables)
        log.append((version, recorded))
        module.put(conn, tables, f"upgrade_{version}", "done")
    return types.SimpleNamespace(VERSION=version, upgrade=upgrade)


def test_upgrades_run_in_order_from_the_recorded_version(fresh):
    install_at_version_1(fresh)
    log: list = []
    steps = [fake_upgrade(v, log) for v in (4, 2, 3, 1)]  # given out of order
    seen: list = []
    report = installer.upgrade(fresh.engine, fresh.tables, upgrades=steps, target=4,
                               on_step=seen.append)
    assert log == [(2, 1), (3, 2), (4, 3)]  # version 1 is already installed
    assert report.upgraded_to == seen == [2, 3, 4] and report.schema_version == 4
    again = installer.upgrade(fresh.engine, fresh.tables, upgrades=steps, target=4)
    assert again.upgraded_to == [] and len(log) == 3


def test_a_failing_upgrade_keeps_the_versions_before_it(fresh):
    install_at_version_1(fresh)
    log: list = []

    def broken(conn, tables):
        module.put(conn, tables, "upgrade_3", "half done")
        raise RuntimeError("boom")

    steps = [fake_upgrade(2, log), types.SimpleNamespace(VERSION=3, upgrade=broken),
             fake_upgrade(4, log)]
    with pytest.raises(ShopError, match=r"upgrade to version 3 failed \(boom\); the module's "
                                        r"tables stay at version 2") as info:
        installer.upgrade(fresh.engine, fresh.tables, upgrades=steps, target=4)
    assert isinstance(info.value.__cause__, RuntimeError)
    with fresh.engine.connect() as conn:
        assert module.schema_version(conn, fresh.tables) == 2
        assert module.get(conn, fresh.tables, "upgrade_3") is None  # rolled back
    steps = [fake_upgrade(3, log), fake_upgrade(4, log)]
    report = installer.upgrade(fresh.engine, fresh.tables, upgrades=steps, target=4)
    assert report.upgraded_to == [3, 4]


def test_upgrade_refuses_gaps_newer_schemas_and_missing_installs(fresh):
    with pytest.raises(ShopError, match="not installed"):
        installer.upgrade(fresh.engine, fresh.tables, upgrades=[])
    install_at_version_1(fresh)
    with pytest.raises(ShopError, match=r"upgrades \[2, 3\] are needed, found \[3\]"):
        installer.upgrade(fresh.engine, fresh.tables, upgrades=[fake_upgrade(3, [])], target=3)
    with fresh.engine.begin() as conn:
        module.set_schema_version(conn, fresh.tables, 9)
    with pytest.raises(ShopError, match="newer than this psonlinechat"):
        installer.upgrade(fresh.engine, fresh.tables, upgrades=[])


def test_install_over_an_older_version_upgrades(fresh):
    install_at_version_1(fresh)
    log: list = []
    report = installer.install(fresh.engine, fresh.tables, upgrades=[fake_upgrade(2, log)],
                               target=2)
    assert report.upgraded_to == [2] and report.schema_version == 2 and log == [(2, 1)]


def test_shipped_upgrades_are_consistent():
    shipped = upgrades.discover()
    assert [u.VERSION for u in shipped] == list(range(2, tables_module.SCHEMA_VERSION + 1))
    with pytest.raises(RuntimeError, match="share a version"):
        upgrades.ordered([fake_upgrade(2, []), fake_upgrade(2, [])])


def test_install_over_a_newer_schema_changes_nothing(fresh):
    installer.install(fresh.engine, fresh.tables)
    with fresh.engine.begin() as conn:
        module.set_schema_version(conn, fresh.tables, 9)
        fresh.tables.shop_lock.drop(conn)
    with pytest.raises(ShopError, match="newer than this psonlinechat"):
        installer.install(fresh.engine, fresh.tables)
    assert not sa.inspect(fresh.engine).has_table(fresh.tables.shop_lock.name)


def test_an_earlier_install_is_upgraded_before_missing_tables_are_created(fresh):
    """An upgrade that creates a table must find it absent, as the old schema had it."""
    install_at_version_1(fresh)
    with fresh.engine.begin() as conn:
        fresh.tables.shop_lock.drop(conn)
    step = types.SimpleNamespace(
        VERSION=2, upgrade=lambda conn, tables: tables.shop_lock.create(conn))
    report = installer.install(fresh.engine, fresh.tables, upgrades=[step], target=2)
    assert report.upgraded_to == [2] and report.created_tables == []


def hold_install_lock(db):
    """A second connection that holds the shop's install lock (release by closing it)."""
    conn = db.engine.connect()
    assert module.acquire_install_lock(conn, db.tables, 0)
    return conn


def test_install_upgrade_and_uninstall_wait_for_each_other(fresh):
    installer.install(fresh.engine, fresh.tables)
    holder = hold_install_lock(fresh)
    try:
        for action in (installer.install, installer.upgrade, installer.uninstall):
            with pytest.raises(ShopError, match="another install, upgrade or uninstall .* is "
                                                "running on this shop"):
                action(fresh.engine, fresh.tables, lock_timeout=0)
    finally:
        holder.close()
    assert installer.uninstall(fresh.engine, fresh.tables, lock_timeout=0).dropped_tables


def test_two_installs_at_once_make_one_set_of_rows(fresh):
    barrier = threading.Barrier(2)
    reports: list = []

    def run() -> None:
        barrier.wait()
        reports.append(installer.install(fresh.engine, fresh.tables))

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert len(reports) == 2
    assert sorted(len(r.created_tables) for r in reports) == [0, len(fresh.tables.own_tables)]
    assert sorted(len(r.written_keys) for r in reports) == [0, len(ms.all_keys())]
    c = fresh.tables.configuration
    with fresh.engine.connect() as conn:
        duplicates = conn.execute(sa.select(c.c.name).group_by(c.c.name, c.c.id_shop_group,
                                                              c.c.id_shop)
                                  .having(sa.func.count() > 1)).scalars().all()
    assert duplicates == []


def test_unreachable_database_and_missing_tables(shop_db):
    dead = sa.create_engine("mysql+pymysql://root@127.0.0.1:1/x", poolclass=sa.pool.NullPool)
    try:
        with pytest.raises(ShopError, match="cannot reach the shop's database"):
            installer.install(dead, shop_db.tables)
        with pytest.raises(ShopError, match="cannot reach the shop's database"):
            installer.upgrade(dead, shop_db.tables)
    finally:
        dead.dispose()
    other = tables_module.build("nothere_")
    with pytest.raises(ShopError, match="no PrestaShop tables with prefix 'nothere_'"):
        installer.install(shop_db.engine, other)
    with pytest.raises(ShopError, match="no PrestaShop tables"):
        installer.uninstall(shop_db.engine, other)


def test_install_and_uninstall_on_sqlite(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    t = tables_module.build("ps_")
    try:
        t.shop_metadata.create_all(engine)
        with engine.begin() as conn:
            ids = shopdb.seed_small_shop(conn, t)
        installer.install(engine, t)
        assert installer.install(engine, t).written_keys == []
        with engine.connect() as conn:
            settings = SettingsStore().get(conn, t, ids["shop"])
            assert settings.welcome_text[ids["fr"]].startswith("Bonjour")
            SettingsStore().save(conn, t, ids["shop"], {"max_chats": 2})
        installer.uninstall(engine, t)
        inspector = sa.inspect(engine)
        assert not [n for n in inspector.get_table_names() if "psonlinechat" in n]
        with engine.connect() as conn:
            assert configuration.get_many(conn, t, ms.all_keys()) == {}
    finally:
        engine.dispose()
