"""A worker of ``psonlinechat serve`` starts its mail sender at boot: the mail a previous
process left pending goes out with no request at all (real aiosmtpd, real gunicorn)."""

from __future__ import annotations

import datetime as dt

import pytest

from psonlinechat import config
from psonlinechat.mail import offline
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import engine as store_engine
from tests.mail.conftest import received, reset, rows, smtp_config, visitor_of, wait_until
from tests.support.served import ServeProcess, shop_env
from tests.support.smtp import SmtpServer
from tests.web.test_offline import POST


@pytest.fixture
def mail_shop(installed):
    """The installed shop with an empty mail queue (emptied again after the test)."""
    shop = ShopDatabase(settings := config.from_mapping(installed.config()),
                        store_engine.create_engine(settings))
    reset(installed, shop)
    yield installed, shop
    reset(installed, shop)
    shop.engine.dispose()


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_mail_left_pending_is_sent_at_boot_with_no_request(mail_shop, worker_class):
    db, shop = mail_shop
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # stored and queued as a post does, by a process that stopped before sending it
    assert offline.receive(shop, visitor_of(db), POST, now=now).stored
    assert [m.state for m in rows(db, "mail")] == ["pending"]
    with SmtpServer() as smtp:
        smtp_config(db, smtp.port)
        server = ServeProcess(["--worker-class", worker_class], shop_env(db))
        try:
            server.start()
            (message,) = received(smtp)  # nobody sent the worker a request
            wait_until(lambda: [m.state for m in rows(db, "mail")] == ["sent"],
                       what="the mail marked sent")
        finally:
            server.stop()
            output = server.output()
            server.close()
    assert "Is the red one in stock?" in message.get_body(("plain",)).get_content()
    assert "psonlinechat:" not in output, output  # no warm-up failure logged
