"""The queue for operators (``psonlinechat mail list | send-pending``, also under
``flask psonlinechat mail``), the upgrade step bringing the offline tables to a shop
installed before them, and the offline form's text rules."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from psonlinechat import console as cli
from psonlinechat.shop import installer, offline_form
from psonlinechat.store import module, tables
from psonlinechat.web.extension import OnlineChat
from tests.mail.conftest import Clock, rows, smtp_config
from tests.mail.test_queue import post
from tests.support.served import free_port
from tests.support.smtp import SmtpServer


def shop_args(db):
    return ["--database-url", db.url, "--table-prefix", db.prefix]


def test_mail_list_and_send_pending(mail_shop, runner):
    db, shop = mail_shop
    port = free_port()
    smtp_config(db, port)
    received, queue = post(db, shop, Clock(1_000_000_000.0))  # long due
    queue.send(received.id_mail)
    listed = runner.invoke(cli.main, ["mail", "list", *shop_args(db)])
    assert listed.exit_code == 0, listed.output
    line = listed.output.splitlines()[1]
    assert " pending " in line and "ConnectionRefusedError" in line and line.split()[2] == "1"
    with SmtpServer(port=port) as server:
        sent = runner.invoke(cli.main, ["mail", "send-pending", *shop_args(db)])
        assert sent.exit_code == 0, sent.output
        assert sent.output.startswith("1 mails sent, 0 to retry later")
        assert len(server.messages) == 1
    only_sent = runner.invoke(cli.main, ["mail", "list", "--state", "sent", *shop_args(db)])
    assert " sent " in only_sent.output.splitlines()[1]
    none_failed = runner.invoke(cli.main, ["mail", "list", "--state", "failed", *shop_args(db)])
    assert none_failed.output.strip() == "No mails queued."


def test_flask_mail_commands(mail_shop):
    db, shop = mail_shop
    post(db, shop, Clock(1_000_000_000.0))
    app = Flask(__name__)
    app.config.update(db.config())
    OnlineChat(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["psonlinechat", "mail", "send-pending", "--retry-failed"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 failed mails requeued; 1 mails sent")  # method 3
    assert "sent" in runner.invoke(args=["psonlinechat", "mail", "list"]).output


def test_the_upgrade_step_adds_the_offline_tables_and_uninstall_drops_them(mail_shop):
    db, _ = mail_shop
    t = db.tables
    with db.engine.begin() as conn:  # as version 1 left a shop
        t.mail.drop(conn)
        t.offline_message.drop(conn)
        module.set_schema_version(conn, t, 1)
    report = installer.upgrade(db.engine, t)
    assert report.upgraded_to[0] == 2 and report.schema_version == tables.SCHEMA_VERSION
    assert rows(db, "offline_message") == [] and rows(db, "mail") == []
    installer.uninstall(db.engine, t)
    names = set(sa.inspect(db.engine).get_table_names())
    assert t.mail.name not in names and t.offline_message.name not in names
    installer.install(db.engine, t)
    assert {t.mail.name, t.offline_message.name} <= set(sa.inspect(db.engine).get_table_names())


def test_text_rules():
    assert offline_form.clean_text(" a\x00b\u200bc\x1b[31m ", multiline=False) == "abc[31m"
    assert offline_form.clean_text("l1\r\nl2\rl3\tx\x07", multiline=True) == "l1\nl2\nl3\tx"
    assert offline_form.page_url("https://shop.example/p?x=1") == "https://shop.example/p?x=1"
    for bad in ("javascript:alert(1)", "https://a b", 42, "//evil.example"):
        assert offline_form.page_url(bad) == ""
