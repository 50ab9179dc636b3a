"""Offline messages stored with their mail queued in one transaction, and the queue:
sent after the commit through the shop's PS_MAIL_METHOD (a real SMTP server), retried with
backoff, never lost through an outage, never sent twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from psonlinechat.mail import queue as mail_queue
from psonlinechat.mail import settings as mail_settings
from psonlinechat.mail.offline import receive
from psonlinechat.mail.queue import MailQueue, backoff
from psonlinechat.mail.transports import OutboxMailer
from psonlinechat.store import offline_messages as repo
from tests.mail.conftest import NOTIFY, Clock, rows, set_config, smtp_config, visitor_of
from tests.support.served import free_port
from tests.support.smtp import SmtpServer

POST = {"firstname": "Ann", "lastname": "Lee", "email": "ann@example.test",
        "message": "Is the red one in stock?"}


def post(db, shop, clock, **fields):
    queue = MailQueue(shop, clock=clock)
    received = receive(shop, visitor_of(db), {**POST, **fields},
                       page_url="https://127.0.0.1/en/shirts", ip="192.0.2.7", now=queue.now())
    return received, queue


def test_a_post_is_stored_with_its_mail_queued(mail_shop):
    db, shop = mail_shop
    received, _ = post(db, shop, Clock())
    assert received.stored and received.errors == {}
    (message,) = rows(db, "offline_message")
    assert (message.firstname, message.email, message.phone, message.ip, message.page_url) == (
        "Ann", "ann@example.test", "", "192.0.2.7", "https://127.0.0.1/en/shirts")
    (mail,) = rows(db, "mail")
    assert (mail.id_offline_message, mail.state, mail.attempts) == (
        message.id_offline_message, "pending", 0)
    assert received.summary["message"] == "Is the red one in stock?"


def test_message_and_mail_commit_together(mail_shop):
    """With the queue's table gone, the message is not stored either."""
    db, shop = mail_shop
    mail = db.tables.mail.name
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"RENAME TABLE `{mail}` TO `{mail}_away`"))
    try:
        # a missing table is a statement error (raised as it is), not the database failing
        with pytest.raises(sa.exc.ProgrammingError, match="doesn't exist"):
            post(db, shop, Clock())
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"RENAME TABLE `{mail}_away` TO `{mail}`"))
    assert rows(db, "offline_message") == [] and rows(db, "mail") == []


def test_a_refused_post_stores_nothing(mail_shop):
    db, shop = mail_shop
    received, _ = post(db, shop, Clock(), email="", message="  ")
    assert not received.stored and received.errors == {"email": "required",
                                                        "message": "required"}
    with shop.connect() as conn:
        shop.settings_store.save(conn, db.tables, db.ids["shop"], {"offline_mode": False})
        conn.commit()
    closed, _ = post(db, shop, Clock())
    assert not closed.open and not closed.stored
    assert rows(db, "offline_message") == [] and rows(db, "mail") == []


def test_smtp_mail_from_the_shop_to_the_merchant_replying_to_the_visitor(mail_shop):
    db, shop = mail_shop
    with SmtpServer() as server:
        smtp_config(db, server.port)
        received, queue = post(db, shop, Clock())
        assert queue.send(received.id_mail) == "sent"
        (message,) = server.messages
        (envelope,) = server.recorder.envelopes
    assert message["From"] == "Test shop <shop@example.test>"
    assert message["To"] == NOTIFY and envelope[1] == [NOTIFY]
    assert message["Reply-To"] == "ann@example.test"
    assert message["Subject"] == "[Test shop] New message from the chat's contact form"
    assert "Is the red one in stock?" in message.get_body(("plain",)).get_content()
    assert "Is the red one in stock?" in message.get_body(("html",)).get_content()
    (mail,) = rows(db, "mail")
    assert (mail.state, mail.attempts, mail.last_error) == ("sent", 1, None)
    assert mail.date_sent is not None


def test_without_the_email_field_reply_to_is_the_shop_and_language_the_default(mail_shop):
    db, shop = mail_shop
    with shop.connect() as conn:
        shop.settings_store.save(conn, db.tables, db.ids["shop"], {"offline_fields": {
            "email": "hidden", "firstname": "hidden", "lastname": "hidden", "phone": "required"}})
        conn.commit()
    set_config(db, PS_LANG_DEFAULT=str(db.ids["fr"]))
    with SmtpServer() as server:
        smtp_config(db, server.port)
        received, queue = post(db, shop, Clock(), phone="+33 1 23 45 67 89")
        queue.send(received.id_mail)
        (message,) = server.messages
    assert rows(db, "offline_message")[0].email == ""  # not asked for: not kept
    assert message["Reply-To"] == "shop@example.test"
    assert message["Subject"] == "[Test shop] Nouveau message via le formulaire du chat"
    assert "Téléphone : +33 1 23 45 67 89" in message.get_body(("plain",)).get_content()


def test_method_3_sends_nothing_and_counts_as_done(mail_shop):
    db, shop = mail_shop
    with SmtpServer() as server:
        set_config(db, PS_MAIL_SERVER="127.0.0.1", PS_MAIL_SMTP_PORT=str(server.port))
        received, queue = post(db, shop, Clock())
        assert queue.send(received.id_mail) == "sent"
        assert server.messages == []


def test_mail_settings_read_numbers_as_php_casts_them(mail_shop):
    """PS_MAIL_* numbers are read as PHP's (int) reads them: leading ASCII digits; a value
    without any (a superscript two, fullwidth digits) keeps the default instead of failing."""
    db, shop = mail_shop
    set_config(db, PS_MAIL_METHOD=" 2", PS_MAIL_SERVER="127.0.0.1",
               PS_MAIL_SMTP_PORT="\u00b2", PS_LANG_DEFAULT="\uff11")
    with shop.connect() as conn:
        read = mail_settings.read(conn, shop.tables, db.ids["shop"])
    assert (read.method, read.port, read.default_iso) == (mail_settings.SMTP, 25, "en")
    set_config(db, PS_MAIL_SMTP_PORT="587 ", PS_MAIL_METHOD="-2")
    with shop.connect() as conn:
        read = mail_settings.read(conn, shop.tables, db.ids["shop"])
    assert (read.method, read.port) == (mail_settings.SENDMAIL, 587)


def test_the_hosts_mailer_replaces_the_shops_transport(mail_shop, tmp_path):
    db, shop = mail_shop
    received, _ = post(db, shop, Clock())
    outbox = OutboxMailer(tmp_path / "outbox")
    assert MailQueue(shop, mailer=outbox, clock=Clock()).send(received.id_mail) == "sent"
    assert len(outbox.messages()) == 1


def test_an_smtp_outage_delays_mail_and_loses_none(mail_shop):
    """The server is down during the posts, comes back: every message arrives once."""
    db, shop = mail_shop
    port, clock = free_port(), Clock()
    smtp_config(db, port)
    ids = []
    for n in range(5):
        received, queue = post(db, shop, clock, message=f"message {n}")
        assert queue.send(received.id_mail) == "retrying"
        ids.append(received.id_mail)
    listed = rows(db, "mail")
    assert {(m.state, m.attempts) for m in listed} == {("pending", 1)}
    assert all("Connection refused" in m.last_error for m in listed)
    queue = MailQueue(shop, clock=clock)  # a restarted process
    with SmtpServer(port=port) as server:
        assert queue.send_pending().sent == 0  # not due yet: backoff
        clock.advance(backoff(1))
        report = queue.send_pending()
        assert (report.sent, report.retrying) == (5, 0)
        clock.advance(LATER)
        assert queue.send_pending().sent == 0
        bodies = sorted(m.get_body(("plain",)).get_content() for m in server.messages)
    assert len(bodies) == 5 and all(f"message {n}" in bodies[n] for n in range(5))
    assert {(m.state, m.attempts) for m in rows(db, "mail")} == {("sent", 2)}


LATER = 10 * 24 * 3600


def test_backoff_doubles_then_gives_up_and_failed_mail_can_be_requeued(mail_shop):
    db, shop = mail_shop
    smtp_config(db, free_port())
    clock = Clock()
    received, queue = post(db, shop, clock)
    waits = []
    for attempt in range(1, mail_queue.MAX_ATTEMPTS + 1):
        outcome = queue.send(received.id_mail)
        mail = rows(db, "mail")[0]
        assert mail.attempts == attempt
        if attempt < mail_queue.MAX_ATTEMPTS:
            assert outcome == "retrying"
            waits.append((mail.next_attempt_at - queue.now()).total_seconds())
            assert queue.send(received.id_mail) is None  # not due: left alone
            clock.advance(waits[-1])
    assert outcome == "failed" and mail.state == "failed"
    assert waits[:3] == [60, 120, 240] and waits[-2:] == [mail_queue.LONGEST_RETRY] * 2
    assert queue.send_pending().sent == 0
    with SmtpServer() as server:
        smtp_config(db, server.port)
        assert queue.requeue_failed() == 1
        assert queue.send_pending().sent == 1 and len(server.messages) == 1


def test_a_claimed_mail_is_sent_once_even_by_racing_senders(mail_shop):
    db, shop = mail_shop
    clock = Clock()
    for n in range(12):
        post(db, shop, clock, message=f"m{n}")

    class Slow:
        def __init__(self):
            self.sent, self.lock = [], threading.Lock()

        def send(self, message):
            time.sleep(0.02)
            with self.lock:
                self.sent.append(message.get_body(("plain",)).get_content())

    mailer = Slow()
    queues = [MailQueue(shop, mailer=mailer, clock=clock) for _ in range(3)]
    threads = [threading.Thread(target=q.send_pending) for q in queues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(mailer.sent) == 12 and len(set(mailer.sent)) == 12
    assert {m.state for m in rows(db, "mail")} == {"sent"}


def test_a_sender_dying_mid_send_leaves_the_mail_to_the_next_after_its_lease(mail_shop, tmp_path):
    db, shop = mail_shop
    clock = Clock()
    received, queue = post(db, shop, clock)
    with shop.connect() as conn:  # claimed, then the process died
        mail = repo.get_mail(conn, db.tables, received.id_mail)
        assert repo.claim(conn, db.tables, mail, queue.now(),
                          queue.now() + dt.timedelta(seconds=mail_queue.LEASE))
        conn.commit()
    outbox = OutboxMailer(tmp_path)
    again = MailQueue(shop, mailer=outbox, clock=clock)
    assert again.send_pending().sent == 0
    clock.advance(mail_queue.LEASE)
    assert again.send_pending().sent == 1 and len(outbox.messages()) == 1


def test_send_pending_stops_between_mails_when_asked(mail_shop, tmp_path):
    db, shop = mail_shop
    clock = Clock()
    for n in range(3):
        post(db, shop, clock, message=f"m{n}")
    outbox = OutboxMailer(tmp_path)
    asked = []

    def stop():
        asked.append(True)
        return len(asked) > 1  # let the first mail go, then stop

    report = MailQueue(shop, mailer=outbox, clock=clock).send_pending(stop=stop)
    assert report.sent == 1 and len(outbox.messages()) == 1
    assert sorted(m.state for m in rows(db, "mail")) == ["pending", "pending", "sent"]


@contextlib.contextmanager
def most_connections_at_once(engine):
    """The most connections of ``engine``'s pool checked out at one time inside the block."""
    out, most = [0], [0]

    def checkout(*_):
        out[0] += 1
        most[0] = max(most[0], out[0])

    def checkin(*_):
        out[0] -= 1

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    try:
        yield most
    finally:
        sa.event.remove(engine, "checkout", checkout)
        sa.event.remove(engine, "checkin", checkin)


def test_one_attempt_holds_one_connection_at_a_time(mail_shop, tmp_path):
    """Claiming, building, recording: never two connections at once, whether the mail
    cannot be built (SMTP without a server), cannot leave (refused) or leaves."""
    db, shop = mail_shop
    clock = Clock()
    outcomes = []
    for config, mailer in (({"PS_MAIL_METHOD": "2", "PS_MAIL_SERVER": ""}, None),
                           ({"PS_MAIL_SERVER": "127.0.0.1",
                             "PS_MAIL_SMTP_PORT": str(free_port())}, None),
                           ({}, OutboxMailer(tmp_path))):
        set_config(db, **config)
        received, _ = post(db, shop, clock)
        with most_connections_at_once(shop.engine) as most:
            outcomes.append(MailQueue(shop, mailer=mailer, clock=clock).send(received.id_mail))
        assert most[0] == 1, outcomes
    assert outcomes == ["retrying", "retrying", "sent"]
