"""Configuration read and written PrestaShop's way, on real rows.

MariaDB, and SQLite for the demo.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import sqlalchemy as sa

from psonlinechat.store import configuration as cfg
from psonlinechat.store import seed
from psonlinechat.store import tables as tables_module
from tests.support import shopdb

NOW = dt.datetime(2025, 11, 20, 10, 30, 0)


@pytest.fixture(scope="module")
def stores(shop_db):
    """shop_db plus a second shop in the seeded group and a third shop in a second group."""
    t = shop_db.tables
    with shop_db.engine.begin() as conn:
        g1, s1 = shop_db.ids["shop_group"], shop_db.ids["shop"]
        s2 = seed.add_shop(conn, t, g1, "Second", domain="second.test")
        g2 = seed.add_shop_group(conn, t, "Other group")
        s3 = seed.add_shop(conn, t, g2, "Third", domain="third.test")
    return shop_db, {"g1": g1, "g2": g2, "s1": s1, "s2": s2, "s3": s3}


@pytest.fixture
def multistore(stores):
    """Turn PS_MULTISHOP_FEATURE_ACTIVE on for one test (off again afterwards)."""
    db, _ = stores
    with db.engine.begin() as conn:
        seed.add_configuration(conn, db.tables, cfg.MULTISHOP_KEY, "1")
    yield
    with db.engine.begin() as conn:
        cfg.delete(conn, db.tables, [cfg.MULTISHOP_KEY])


def add(db, name, value, group=None, shop=None, langs=None):
    with db.engine.begin() as conn:
        return seed.add_configuration(conn, db.tables, name, value, id_shop_group=group,
                                      id_shop=shop, lang_values=langs)


def rows(db, name):
    c = db.tables.configuration
    with db.engine.connect() as conn:
        return conn.execute(sa.select(c).where(c.c.name == name)
                            .order_by(c.c.id_configuration)).mappings().all()


def lang_rows(db, id_configuration):
    cl = db.tables.configuration_lang
    with db.engine.connect() as conn:
        return {r.id_lang: r for r in conn.execute(
            sa.select(cl).where(cl.c.id_configuration == id_configuration))}


def test_global_values_null_and_missing(stores):
    db, ids = stores
    add(db, "T1_PLAIN", "hello")
    add(db, "T1_NULL", None)
    with db.engine.connect() as conn:
        values = cfg.get_many(conn, db.tables, ["T1_PLAIN", "T1_NULL", "T1_MISSING"], ids["s1"])
        assert values == {"T1_PLAIN": "hello", "T1_NULL": ""}
        assert cfg.get(conn, db.tables, "T1_MISSING", default="d") == "d"
        assert cfg.get(conn, db.tables, "PS_SHOP_EMAIL") == shopdb.SHOP_EMAIL


def test_multistore_off_reads_global_rows_only(stores):
    db, ids = stores
    add(db, "T2_KEY", "global")
    add(db, "T2_KEY", "group", group=ids["g1"])
    add(db, "T2_KEY", "shop", group=ids["g1"], shop=ids["s1"])
    with db.engine.connect() as conn:
        assert not cfg.multistore_active(conn, db.tables)
        assert cfg.get(conn, db.tables, "T2_KEY", id_shop=ids["s1"]) == "global"


def test_multistore_resolution_shop_group_global(stores, multistore):
    db, ids = stores
    add(db, "T3_KEY", "global")
    add(db, "T3_KEY", "group one", group=ids["g1"])
    add(db, "T3_KEY", "shop one", group=ids["g1"], shop=ids["s1"])
    with db.engine.connect() as conn:
        assert cfg.multistore_active(conn, db.tables)
        get = lambda shop: cfg.get(conn, db.tables, "T3_KEY", id_shop=shop)  # noqa: E731
        assert get(ids["s1"]) == "shop one"
        assert get(ids["s2"]) == "group one"
        assert get(ids["s3"]) == "global"
        assert get(None) == "global"
        # An explicit group overrides the shop's own group.
        assert cfg.get(conn, db.tables, "T3_KEY", id_shop=ids["s3"],
                       id_shop_group=ids["g1"]) == "group one"


def test_zero_means_null(stores, multistore):
    db, ids = stores
    add(db, "T4_KEY", "global as zeros", group=0, shop=0)
    add(db, "T4_KEY", "group with shop zero", group=ids["g2"], shop=0)
    with db.engine.connect() as conn:
        assert cfg.get(conn, db.tables, "T4_KEY", id_shop=ids["s1"]) == "global as zeros"
        assert cfg.get(conn, db.tables, "T4_KEY", id_shop=ids["s3"]) == "group with shop zero"


def test_multilingual_falls_back_per_language(stores, multistore):
    db, ids = stores
    en, fr = ids_lang = (db.ids["en"], db.ids["fr"])
    add(db, "T5_TEXT", None, langs={en: "Hello", fr: "Bonjour"})
    add(db, "T5_TEXT", None, group=ids["g1"], shop=ids["s1"], langs={fr: "Salut"})
    with db.engine.connect() as conn:
        values = cfg.get_many(conn, db.tables, ["T5_TEXT"], ids["s1"])
        assert values == {"T5_TEXT": {en: "Hello", fr: "Salut"}}
        assert cfg.get(conn, db.tables, "T5_TEXT", id_lang=fr, id_shop=ids["s2"]) == "Bonjour"
        # Without a language a multilingual key reads as missing, as in PrestaShop.
        assert cfg.get(conn, db.tables, "T5_TEXT", id_shop=ids["s1"], default="x") == "x"
    assert len(ids_lang) == 2


def test_duplicates_newest_row_wins_and_updates_reach_all(stores):
    db, ids = stores
    add(db, "T6_DUP", "old")
    add(db, "T6_DUP", "new")
    with db.engine.connect() as conn:
        assert cfg.get(conn, db.tables, "T6_DUP") == "new"
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T6_DUP", "both", now=NOW)
    assert [r["value"] for r in rows(db, "T6_DUP")] == ["both", "both"]


def test_get_many_reads_in_one_query(stores, multistore):
    db, ids = stores
    names = [f"T7_KEY_{i}" for i in range(15)]
    for name in names:
        add(db, name, name.lower())
    statements = []
    with db.engine.connect() as conn:
        sa.event.listen(conn, "before_cursor_execute",
                        lambda *args: statements.append(args[2]))
        values = cfg.get_many(conn, db.tables, names, ids["s2"])
    assert values == {name: name.lower() for name in names}
    assert len(statements) == 1


def test_update_value_global_when_multistore_off(stores):
    db, ids = stores
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T8_KEY", "v1", id_shop=ids["s1"], now=NOW)
    [row] = rows(db, "T8_KEY")
    assert (row["id_shop_group"], row["id_shop"], row["value"]) == (None, None, "v1")
    assert row["date_add"] == row["date_upd"] == NOW
    later = NOW + dt.timedelta(hours=1)
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T8_KEY", 42, now=later)
    [row] = rows(db, "T8_KEY")
    assert (row["value"], row["date_add"], row["date_upd"]) == ("42", NOW, later)


def test_update_value_shop_row_carries_its_group(stores, multistore):
    db, ids = stores
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T9_KEY", "global", now=NOW)
        cfg.update_value(conn, db.tables, "T9_KEY", "shop three", id_shop=ids["s3"], now=NOW)
        cfg.update_value(conn, db.tables, "T9_KEY", "group one", id_shop_group=ids["g1"], now=NOW)
        cfg.update_value(conn, db.tables, "T9_KEY", "shop three again", id_shop=ids["s3"], now=NOW)
    scopes = {(r["id_shop_group"], r["id_shop"]): r["value"] for r in rows(db, "T9_KEY")}
    assert scopes == {(None, None): "global", (ids["g2"], ids["s3"]): "shop three again",
                      (ids["g1"], None): "group one"}
    with db.engine.connect() as conn:
        assert cfg.get(conn, db.tables, "T9_KEY", id_shop=ids["s2"]) == "group one"


def test_multilingual_write(stores):
    db, ids = stores
    en, fr = db.ids["en"], db.ids["fr"]
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T10_TEXT", {en: "Hi"}, now=NOW)
    [row] = rows(db, "T10_TEXT")
    assert row["value"] is None
    later = NOW + dt.timedelta(minutes=5)
    with db.engine.begin() as conn:
        db_before = conn.execute(sa.select(sa.func.now())).scalar()
        cfg.update_value(conn, db.tables, "T10_TEXT", {en: "Hello", fr: "Bonjour"}, now=later)
    with db.engine.connect() as conn:
        db_after = conn.execute(sa.select(sa.func.now())).scalar()
    [row] = rows(db, "T10_TEXT")
    langs = lang_rows(db, row["id_configuration"])
    assert {k: v.value for k, v in langs.items()} == {en: "Hello", fr: "Bonjour"}
    assert langs[fr].date_upd == later  # inserted: the write time, in shop time
    assert db_before <= langs[en].date_upd <= db_after  # updated: the database's NOW()
    with db.engine.connect() as conn:
        assert cfg.get(conn, db.tables, "T10_TEXT", id_lang=fr) == "Bonjour"


def test_booleans_and_empty_values(stores):
    db, _ = stores
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T11_ON", True, now=NOW)
        cfg.update_value(conn, db.tables, "T11_OFF", False, now=NOW)
        cfg.update_value(conn, db.tables, "T11_NONE", None, now=NOW)
        cfg.update_value(conn, db.tables, "T11_EMPTY", "", now=NOW)
    with db.engine.connect() as conn:
        values = cfg.get_many(conn, db.tables, ["T11_ON", "T11_OFF", "T11_NONE", "T11_EMPTY"])
    assert values == {"T11_ON": "1", "T11_OFF": "", "T11_NONE": "", "T11_EMPTY": ""}
    assert [cfg.as_bool(v) for v in ("1", "", "0", None, "yes", "00")] == \
        [True, False, False, False, True, True]


def test_non_html_values_lose_newlines_and_tags(stores):
    db, _ = stores
    text = "Line one\nLine <b>two</b>\r\n<script>x()</script>3 < 4"
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T12_PLAIN", text, now=NOW)
        cfg.update_value(conn, db.tables, "T12_HTML", text, html=True, now=NOW)
    with db.engine.connect() as conn:
        assert cfg.get(conn, db.tables, "T12_PLAIN") == "Line oneLine twox()3 < 4"
        assert cfg.get(conn, db.tables, "T12_HTML") == text


@pytest.mark.parametrize("name", ["", "BAD KEY", "BAD;KEY", "CLÉ", "X" * 255, "A%"])
def test_invalid_names_are_refused(stores, name):
    db, _ = stores
    with db.engine.begin() as conn, pytest.raises(ValueError, match="configuration key"):
        cfg.update_value(conn, db.tables, name, "x", now=NOW)
    assert cfg.validate_name("OK-key_9" + "x" * 240)


def test_delete_and_delete_prefix(stores):
    db, _ = stores
    en = db.ids["en"]
    add(db, "T13A_ONE", "1")
    keep = add(db, "T13AXTWO", "kept: '_' is not a wildcard")
    text_id = add(db, "T13A_TEXT", None, langs={en: "text"})
    with db.engine.begin() as conn:
        assert cfg.delete_prefix(conn, db.tables, "T13A_") == 2
        assert cfg.delete(conn, db.tables, []) == 0
    assert rows(db, "T13A_ONE") == [] and rows(db, "T13A_TEXT") == []
    assert lang_rows(db, text_id) == {}
    assert [r["id_configuration"] for r in rows(db, "T13AXTWO")] == [keep]
    with db.engine.begin() as conn:
        assert cfg.delete(conn, db.tables, ["T13AXTWO"]) == 1


def test_dates_default_to_shop_time_zone(stores):
    db, _ = stores
    before = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).replace(tzinfo=None, microsecond=0)
    with db.engine.begin() as conn:
        cfg.update_value(conn, db.tables, "T14_KEY", "x")
    after = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).replace(tzinfo=None)
    [row] = rows(db, "T14_KEY")
    assert before <= row["date_add"] <= after


def test_one_shop_is_never_multistore(mariadb):
    db = shopdb.create("ps_")
    try:
        add(db, cfg.MULTISHOP_KEY, "1")
        add(db, "T15_KEY", "global")
        add(db, "T15_KEY", "shop", group=db.ids["shop_group"], shop=db.ids["shop"])
        with db.engine.connect() as conn:
            assert not cfg.multistore_active(conn, db.tables)
            assert cfg.get(conn, db.tables, "T15_KEY", id_shop=db.ids["shop"]) == "global"
    finally:
        db.drop()


def test_works_on_sqlite():
    engine = sa.create_engine("sqlite://")
    t = tables_module.build("ps_")
    try:
        t.shop_metadata.create_all(engine)
        with engine.begin() as conn:
            ids = shopdb.seed_small_shop(conn, t)
            cfg.update_value(conn, t, "T16_TEXT", {ids["en"]: "Hi", ids["fr"]: "Salut"}, now=NOW)
            cfg.update_value(conn, t, "T16_ON", True, now=NOW)
            cfg.update_value(conn, t, "T16_ON", False, now=NOW)
        with engine.connect() as conn:
            assert cfg.get_many(conn, t, ["T16_TEXT", "T16_ON"], ids["shop"]) == {
                "T16_TEXT": {ids["en"]: "Hi", ids["fr"]: "Salut"}, "T16_ON": ""}
        with engine.begin() as conn:
            assert cfg.delete_prefix(conn, t, "T16_") == 2
    finally:
        engine.dispose()
