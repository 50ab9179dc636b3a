"""A worker of ``psonlinechat serve`` gets ready at boot: the mail a previous process left
pending goes out with no request at all (real aiosmtpd, real gunicorn), and nothing away
at boot (Redis) keeps the worker from booting."""

from __future__ import annotations

import datetime as dt

import pytest

from psonlinechat import config
from psonlinechat.mail import offline
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import engine as store_engine
from tests.mail.conftest import received, reset, rows, smtp_config, visitor_of, wait_until
from tests.support.served import ServeProcess, free_port, shop_env
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


def test_a_worker_boots_and_serves_with_redis_away(installed):
    """Warming up makes the chat engine, whose Redis broker subscribes at once: Redis
    refusing connections at boot is logged, never a worker that fails to boot."""
    server = ServeProcess(["--worker-class", "gevent"], shop_env(
        installed, PSONLINECHAT_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    try:
        server.start().wait_listening()
        status = server.status_of("/psonlinechat/no-such-page")
        output = server.output()
    finally:
        server.stop()
        server.close()
    assert status == 404  # the worker booted and Flask answered
    assert "could not warm up (ConnectionError" in output, output
    assert "Worker failed to boot" not in output
