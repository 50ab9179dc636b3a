"""The visitor's language as an iso code, from the shop directory's snapshot."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from psonlinechat import config
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.directory import ShopDirectory
from psonlinechat.store import engine as store_engine
from psonlinechat.store import seed
from tests.support import shopdb


@pytest.fixture
def languages_db(mariadb):
    """A private multistore database: the shop offers en, fr and an inactive de; a second
    shop offers only it, its own default language. Its ShopDatabase on a clock the test
    moves."""
    db = shopdb.create("ps_")
    t = db.tables
    with db.engine.begin() as conn:
        de = seed.add_lang(conn, t, "de", "Deutsch (German)", [db.ids["shop"]], active=False)
        it = seed.add_lang(conn, t, "IT", "Italiano (Italian)", [])  # offered by no shop yet
        second = seed.add_shop(conn, t, db.ids["shop_group"], "Second", domain="second.test")
        conn.execute(sa.insert(t.lang_shop).values(id_lang=it, id_shop=second))
        seed.add_configuration(conn, t, "PS_LANG_DEFAULT", str(it), id_shop=second)
        seed.add_configuration(conn, t, "PS_MULTISHOP_FEATURE_ACTIVE", "1")
    db.ids.update(de=de, it=it, second=second)
    settings = config.from_mapping(db.config())
    now = [1000.0]
    shop = ShopDatabase(settings, store_engine.create_engine(settings),
                        directory=ShopDirectory(clock=lambda: now[0]))
    yield db, shop, now
    shop.engine.dispose()
    db.drop()


def count_queries(engine: sa.Engine) -> list[str]:
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    return statements


def test_offered_language_gives_its_iso(languages_db):
    db, shop, _ = languages_db
    assert shop.language_iso(db.ids["fr"], db.ids["shop"]) == "fr"
    assert shop.language_iso(db.ids["en"], db.ids["shop"]) == "en"
    assert shop.language_iso(db.ids["it"], db.ids["second"]) == "it"  # stored "IT"


def test_a_language_not_offered_gives_the_shops_default(languages_db):
    db, shop, _ = languages_db
    assert shop.language_iso(db.ids["de"], db.ids["shop"]) == "en"  # inactive
    assert shop.language_iso(999, db.ids["shop"]) == "en"  # unknown
    assert shop.language_iso(0, db.ids["shop"]) == "en"
    assert shop.language_iso(db.ids["fr"], db.ids["second"]) == "it"  # the shop's own default
    assert shop.language_iso(db.ids["fr"], None) == "fr"  # the default shop
    assert shop.language_iso(db.ids["it"], None) == "en"  # not offered by the default shop
    assert shop.language_iso(db.ids["fr"], 999) == "fr"  # an unknown shop: the default one


def test_the_default_language_follows_the_merchant(languages_db):
    db, shop, now = languages_db
    with db.engine.begin() as conn:
        conn.execute(sa.update(db.tables.configuration)
                     .where(db.tables.configuration.c.name == "PS_LANG_DEFAULT",
                            db.tables.configuration.c.id_shop.is_(None))
                     .values(value=str(db.ids["fr"])))
    assert shop.language_iso(999, db.ids["shop"]) == "fr"


def test_warm_lookups_cost_no_query_and_changes_count_once_stale(languages_db):
    db, shop, now = languages_db
    assert shop.language_iso(db.ids["fr"], db.ids["shop"]) == "fr"  # warms the snapshot
    statements = count_queries(shop.engine)
    for id_lang in (db.ids["fr"], db.ids["en"], 999):
        shop.language_iso(id_lang, db.ids["shop"])
    assert statements == []
    with db.engine.begin() as conn:
        conn.execute(sa.update(db.tables.lang).where(db.tables.lang.c.id_lang == db.ids["de"])
                     .values(active=True))
    assert shop.language_iso(db.ids["de"], db.ids["shop"]) == "en"  # the snapshot is current
    now[0] += 60
    assert shop.language_iso(db.ids["de"], db.ids["shop"]) == "de"
    assert statements  # read again
