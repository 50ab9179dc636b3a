"""The app's mail sender: posts answer without waiting for SMTP, and the mail follows from
the sender's thread, through a stalled or absent SMTP server (real aiosmtpd, a real silent
listener), across several posts (each once), after a restart, and under gunicorn + gevent.
Time is the only thing faked: the queue's backoff follows a :class:`Clock` the test moves."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import urllib.request

import pytest

from psonlinechat import config, get_state
from psonlinechat.mail import sender as mail_sender
from psonlinechat.mail.queue import backoff
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.store import engine as store_engine
from tests.mail.conftest import Clock, received, reset, rows, smtp_config, wait_until
from tests.support.apps import chat_app
from tests.support.served import ServeProcess, free_port, shop_env
from tests.support.smtp import SmtpServer
from tests.web.test_offline import POST, send


class Staller:
    """A listener on 127.0.0.1 that accepts connections and never says a word (an SMTP
    server hanging before its greeting)."""

    def __init__(self, port: int | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", port or 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.held.append(self.listener.accept()[0])

    def close(self) -> None:
        """Hang up on every client (they see the connection drop) and stop listening."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()
        for conn in self.held:
            conn.close()
        self._thread.join(5)


@pytest.fixture
def app_and_clock(installed, keys):
    """A host app on the installed shop, its sender following a test clock and looking at
    the queue every 50 ms at most; a fresh queue, stopped after the test."""
    db, shop = installed
    reset(db, shop)
    app, clock = start_app(db, keys)
    yield app, db, clock
    get_state(app).stop_chat()
    get_state(app).engine.dispose()
    reset(db, shop)


def start_app(db, keys, clock=None):
    app = chat_app(db, keys)
    clock = clock or Clock()
    get_state(app).mail.clock = clock
    get_state(app).mail.longest_wait = 0.05
    return app, clock


def mails(db) -> list[tuple[str, int]]:
    return sorted((m.state, m.attempts) for m in rows(db, "mail"))


def test_a_post_answers_while_smtp_stalls_and_the_mail_follows_once_it_is_back(app_and_clock):
    app, db, clock = app_and_clock
    staller = Staller()
    try:
        smtp_config(db, staller.port)
        response = send(app)
        assert response.status_code == 201 and response.get_json()["mail"] == "queued"
        wait_until(lambda: staller.held, what="the sender's SMTP connection")
        # answered, and the mail is still being sent: claimed, no outcome yet
        assert [(m.state, m.attempts, m.last_error) for m in rows(db, "mail")] == [
            ("pending", 1, None)]
    finally:
        staller.close()
    wait_until(lambda: rows(db, "mail")[0].last_error, what="the failed attempt")
    with SmtpServer(port=staller.port) as server:
        clock.advance(backoff(1))
        (message,) = received(server)
        wait_until(lambda: mails(db) == [("sent", 2)], what="the mail marked sent")
    assert "Is the red one in stock?" in message.get_body(("plain",)).get_content()


def test_an_outage_over_several_posts_delivers_every_message_once(app_and_clock):
    app, db, clock = app_and_clock
    port = free_port()
    smtp_config(db, port)
    for n in range(5):
        assert send(app, {**POST, "message": f"message {n}"}).status_code == 201
    wait_until(lambda: all(m.last_error for m in rows(db, "mail")) and len(rows(db, "mail")) == 5,
               what="five failed attempts")
    assert mails(db) == [("pending", 1)] * 5
    assert all("Connection refused" in m.last_error for m in rows(db, "mail"))
    with SmtpServer(port=port) as server:
        clock.advance(backoff(1))
        received(server, 5)
        wait_until(lambda: mails(db) == [("sent", 2)] * 5, what="five mails marked sent")
        clock.advance(10 * 24 * 3600)
        get_state(app).mail.run_once()  # one more round, later: nothing is left to send
        bodies = sorted(m.get_body(("plain",)).get_content() for m in server.messages)
    assert len(bodies) == 5 and all(f"message {n}" in bodies[n] for n in range(5))


def test_a_new_process_sends_what_the_old_one_left(app_and_clock, keys):
    old, db, clock = app_and_clock
    port = free_port()
    smtp_config(db, port)
    for n in range(3):
        assert send(old, {**POST, "message": f"left {n}"}).status_code == 201
    wait_until(lambda: mails(db) == [("pending", 1)] * 3
               and all(m.last_error for m in rows(db, "mail")), what="three failed attempts")
    get_state(old).stop_chat()  # the old process is gone
    clock.advance(backoff(1))
    new, _ = start_app(db, keys, clock)
    try:
        with SmtpServer(port=port) as server:
            assert not get_state(new).mail.running  # nothing started before a request
            assert new.test_client().get("/").status_code == 404  # any request at all
            assert get_state(new).mail.running
            received(server, 3)
            wait_until(lambda: mails(db) == [("sent", 2)] * 3, what="three mails marked sent")
    finally:
        get_state(new).stop_chat()
        get_state(new).engine.dispose()


def test_the_sender_sleeps_until_the_next_retry_is_due(app_and_clock):
    app, db, clock = app_and_clock
    sender = get_state(app).mail
    sender.longest_wait = 3600
    assert sender.run_once() == 3600  # nothing queued: the longest wait
    smtp_config(db, free_port())
    send(app)
    wait_until(lambda: rows(db, "mail")[0].last_error, what="the failed attempt")
    sender.close()
    assert sender.run_once() == pytest.approx(backoff(1))
    clock.advance(backoff(1) - 5)
    assert sender.run_once() == pytest.approx(5)
    sender.longest_wait = 2
    assert sender.run_once() == 2


def test_the_database_away_is_waited_out_and_told_once_quietly(caplog):
    """Told at INFO: the requests' outage log warns of the database, once."""
    settings = config.from_mapping(
        {"PSONLINECHAT_DATABASE_URL": f"mysql+pymysql://root@127.0.0.1:{free_port()}/none"})
    shop = ShopDatabase(settings, store_engine.create_engine(settings))
    sender = mail_sender.MailSender(shop, longest_wait=7)
    with caplog.at_level(logging.INFO, logger=mail_sender.__name__):
        assert sender.run_once() == 7
    (record,) = caplog.records
    assert record.levelno == logging.INFO and "cannot read the queue" in record.getMessage()
    shop.engine.dispose()


@pytest.mark.slow
def test_under_gunicorn_and_gevent_posts_answer_while_the_sender_waits_on_smtp(installed):
    db, shop = installed
    reset(db, shop)
    server = ServeProcess(["--worker-class", "gevent"], shop_env(db))
    staller = Staller()
    try:
        server.start().wait_listening()
        with SmtpServer() as smtp:
            smtp_config(db, smtp.port)
            assert post_to(server)["mail"] == "queued"
            (message,) = received(smtp)  # sent by the worker's sender greenlet
        smtp_config(db, staller.port)
        post_to(server)
        wait_until(lambda: staller.held, what="the sender's SMTP connection")
        # the sender's greenlet waits on the silent server; the worker still answers
        assert post_to(server)["mail"] == "queued"
        assert len(rows(db, "offline_message")) == 3
        staller.close()
        wait_until(lambda: all(m.state == "sent" or m.last_error for m in rows(db, "mail")),
                   what="the sender done with every mail")  # idle, as the worker stops
    finally:
        staller.close()
        server.stop()
        output = server.output()
        server.close()
        reset(db, shop)
    assert "Is the red one in stock?" in message.get_body(("plain",)).get_content()
    assert "unpatched" not in output
    # A gevent worker that served requests touching the shop may print one "Exception
    # ignored in _removeHandlerRef" at interpreter teardown (gevent's thread module goes
    # before logging's); a fragment GET does it too, with no mail sender started. Any other
    # traceback counts.
    teardown = output.count("Exception ignored in: <function _removeHandlerRef")
    assert output.count("Traceback") == teardown, output


def post_to(server: ServeProcess) -> dict:
    request = urllib.request.Request(
        server.http + "/psonlinechat/offline", data=json.dumps(POST).encode(), method="POST",
        headers={"Content-Type": "application/json", "Origin": server.http})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())
