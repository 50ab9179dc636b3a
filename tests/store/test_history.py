"""The history table's SQL on MariaDB: lines (a guest conversation, or a signed-in
customer's conversations together), order, pages, search, the exchange, deletion, and the
upgrade that adds its indexes."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import sqlalchemy as sa

from psonlinechat import testing
from psonlinechat.shop import installer
from psonlinechat.store import archived as archive
from psonlinechat.store import conversations, history, module, seed
from psonlinechat.store.tables.conversations import HISTORY_INDEX_SUFFIXES
from psonlinechat.store.upgrades import v0003_history_indexes
from tests.support import shopdb

START = dt.datetime(2026, 3, 1, 9, 0)
_tokens = itertools.count()


@pytest.fixture(scope="module")
def db(mariadb):
    database = shopdb.create("ps_")
    installer.install(database.engine, database.tables)
    with database.engine.begin() as conn:
        t = database.tables
        database.ids["other_shop"] = seed.add_shop(conn, t, database.ids["shop_group"],
                                                   "Other shop", domain="other.test")
        database.ids["ann"] = testing.add_customer(conn, t, email="ann@example.test",
                                                   firstname="Ann", lastname="Smith")
        database.ids["bob"] = testing.add_customer(conn, t, email="bob@example.test",
                                                   firstname="Bob", lastname="Jones")
        database.ids["eve"] = testing.add_employee(conn, t, email="eve@example.test")
    yield database
    database.drop()


@pytest.fixture
def conn(db):
    with db.engine.connect() as connection:
        t = db.tables
        connection.execute(t.message.delete())
        connection.execute(t.conversation.delete())
        connection.commit()
        yield connection
        connection.rollback()


def archived(conn, db, minutes: int, *, customer: str | None = None, said: str = "Hello",
             shop: str = "shop", status: str = "archived") -> int:
    """A conversation with a customer message and an operator answer ``minutes`` after
    START, then ended by the operator and archived."""
    t, when = db.tables, START + dt.timedelta(minutes=minutes)
    id_customer = db.ids[customer] if customer else None
    id_conversation = conversations.insert(
        conn, t, id_shop=db.ids[shop], id_lang=db.ids["en"], id_customer=id_customer,
        id_guest=None if customer else 1000 + minutes, token_hash=f"{next(_tokens):064x}",
        page_url=None, user_agent=None, now=when)
    conversations.append(conn, t, id_conversation=id_conversation, seq=1, kind="message",
                         author="customer", body=said, now=when)
    conversations.append(conn, t, id_conversation=id_conversation, seq=2, kind="message",
                         author="operator", id_employee=db.ids["eve"], body="Answer",
                         now=when + dt.timedelta(seconds=30))
    conversations.append(conn, t, id_conversation=id_conversation, seq=3, kind="ended",
                         author="operator", id_employee=db.ids["eve"],
                         now=when + dt.timedelta(seconds=40))
    conversations.set_status(conn, t, id_conversation, "finished", now=when,
                             ended_by="operator", id_employee_ended=db.ids["eve"])
    if status == "archived":
        conversations.set_status(conn, t, id_conversation, "archived", now=when)
    conn.commit()
    return id_conversation


def lines(conn, db, **query) -> list[history.Line]:
    shops = query.pop("shops", (db.ids["shop"],))
    return history.page(conn, db.tables, history.Query(shops, **query))


def test_a_customer_is_one_line_each_guest_conversation_another(conn, db):
    guest_a = archived(conn, db, 1, said="first guest")
    ann_old = archived(conn, db, 2, customer="ann", said="Ann asks early")
    guest_b = archived(conn, db, 3, said="second guest")
    ann_new = archived(conn, db, 4, customer="ann", said="Ann asks later")
    archived(conn, db, 5, said="not archived yet", status="finished")
    archived(conn, db, 6, said="another shop's", shop="other_shop")
    found = lines(conn, db)
    assert [line.key for line in found] == [f"u{db.ids['ann']}", f"c{guest_b}", f"c{guest_a}"]
    ann = found[0]
    assert (ann.id_conversation, ann.conversations, ann.last_customer_message) == (
        ann_new, 2, "Ann asks later")
    assert (ann.firstname, ann.lastname, ann.email) == ("Ann", "Smith", "ann@example.test")
    assert found[1].email is None and found[1].id_guest == 1003
    assert history.count(conn, db.tables, history.Query((db.ids["shop"],))) == 3
    oldest_first = lines(conn, db, newest_first=False)
    assert [line.key for line in oldest_first] == [f"c{guest_a}", f"c{guest_b}",
                                                   f"u{db.ids['ann']}"]
    both = lines(conn, db, shops=(db.ids["shop"], db.ids["other_shop"]))
    assert len(both) == 4
    assert ann_old not in [line.id_conversation for line in found]


def test_pages_split_the_lines(conn, db):
    ids = [archived(conn, db, n, said=f"guest {n}") for n in range(5)]
    first = lines(conn, db, per_page=2, page=1)
    third = lines(conn, db, per_page=2, page=3)
    assert [line.id_conversation for line in first] == [ids[4], ids[3]]
    assert [line.id_conversation for line in third] == [ids[0]]
    assert lines(conn, db, per_page=2, page=4) == []
    assert history.listing(conn, db.tables, history.Query((db.ids["shop"],), per_page=2)) == (
        first, None, True)
    assert history.listing(conn, db.tables, history.Query(
        (db.ids["shop"],), per_page=2, page=3)) == (third, None, False)
    assert history.count(conn, db.tables, history.Query((db.ids["shop"],))) == 5


@pytest.mark.parametrize(("search", "expected"), [
    ("Smith", ["ann"]), ("bob@exa", ["bob"]), ("Ann Sm", ["ann"]),
    ("delivery", ["ann", "guest"]), ("Saturday delivery", ["guest"]), ("zzz", []),
    ("100%", []), ("a_b", []),
])
def test_search_by_name_email_or_text(conn, db, search, expected):
    archived(conn, db, 1, customer="ann", said="Is delivery free?")
    archived(conn, db, 2, customer="ann", said="Thanks")
    guest = archived(conn, db, 3, said="Saturday delivery possible?")
    archived(conn, db, 4, customer="bob", said="Where is my parcel?")
    found = lines(conn, db, search=search)
    names = {f"u{db.ids['ann']}": "ann", f"u{db.ids['bob']}": "bob", f"c{guest}": "guest"}
    assert sorted(names[line.key] for line in found) == sorted(expected)
    assert history.count(conn, db.tables, history.Query((db.ids["shop"],), search)) == len(
        expected)
    assert history.listing(conn, db.tables, history.Query((db.ids["shop"],), search)) == (
        found, len(expected), False)


def test_search_by_id(conn, db):
    guest = archived(conn, db, 1)
    archived(conn, db, 2, customer="bob")
    assert [line.key for line in lines(conn, db, search=str(db.ids["bob"]))] == [
        f"u{db.ids['bob']}"]
    assert [line.key for line in lines(conn, db, search=str(guest))] == [f"c{guest}"]
    assert [line.key for line in lines(conn, db, search="1001")] == [f"c{guest}"]  # guest id


def test_the_exchange_of_a_line(conn, db):
    first = archived(conn, db, 1, customer="ann", said="one")
    second = archived(conn, db, 2, customer="ann", said="two")
    found = archive.exchange(conn, db.tables, f"u{db.ids['ann']}", (db.ids["shop"],))
    assert [c.id_conversation for c in found] == [first, second]
    assert [(e.kind, e.author, e.body) for e in found[0].entries] == [
        ("message", "customer", "one"), ("message", "operator", "Answer"),
        ("ended", "operator", "")]
    assert found[0].entries[1].employee_name == "Eve Operator"
    assert (found[0].ended_by, found[0].ended_by_name) == ("operator", "Eve Operator")
    assert archive.exchange(conn, db.tables, f"u{db.ids['ann']}", (db.ids["other_shop"],)) == []
    assert archive.exchange(conn, db.tables, f"c{first}", (db.ids["shop"],)) == []  # a customer's
    assert archive.exchange(conn, db.tables, "x1", (db.ids["shop"],)) == []


def test_delete_one_and_several_lines(conn, db):
    t = db.tables
    guest = archived(conn, db, 1)
    archived(conn, db, 2, customer="ann")
    archived(conn, db, 3, customer="ann")
    kept = archived(conn, db, 4, customer="bob")
    ongoing = archived(conn, db, 5, customer="ann", status="finished")
    assert archive.delete(conn, t, [f"c{guest}"], (db.ids["shop"],)) == 1
    assert archive.delete(conn, t, [f"u{db.ids['ann']}", "bogus", f"c{kept}"],
                          (db.ids["shop"],)) == 2
    conn.commit()
    left = set(conn.execute(sa.select(t.conversation.c.id_conversation)).scalars())
    assert left == {kept, ongoing}
    messages = set(conn.execute(sa.select(t.message.c.id_conversation)).scalars())
    assert messages == {kept, ongoing}


def test_the_upgrade_adds_the_indexes(conn, db):
    t = db.tables
    for table in (t.conversation, t.message):
        for index in table.indexes:
            if index.name.endswith(HISTORY_INDEX_SUFFIXES):
                index.drop(conn)
    module.set_schema_version(conn, t, 2)
    conn.commit()
    report = installer.upgrade(db.engine, t)
    assert report.upgraded_to == [v0003_history_indexes.VERSION]
    inspector = sa.inspect(db.engine)
    names = {i["name"] for table in (t.conversation, t.message)
             for i in inspector.get_indexes(table.name)}
    assert {t.prefix + "psonlinechat_" + suffix for suffix in HISTORY_INDEX_SUFFIXES} <= names
    with db.engine.begin() as again:  # run twice: what exists is left alone
        v0003_history_indexes.upgrade(again, t)
