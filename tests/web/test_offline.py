"""POST <prefix>/offline end to end: a host app on a real shop database, mail to a real SMTP
server (sent by the app's mail sender thread). Origin, size, rate limit (in this process,
and shared through a real Redis), honeypot, per-field errors, nothing stored from a refused
post, the plugins told after the commit, and hostile input in every field."""

from __future__ import annotations

import itertools

import pytest

from psonlinechat import get_state, hookimpl
from psonlinechat.shop import installer
from psonlinechat.web import offline
from tests.mail.conftest import NOTIFY, received, reset, rows, smtp_config, wait_until
from tests.support.apps import chat_app
from tests.support.smtp import SmtpServer

HOST = "127.0.0.1"
URL = "/psonlinechat/offline"
POST = {"firstname": "Ann", "lastname": "Lee", "email": "ann@example.test",
        "message": "Is the red one in stock?", "page_url": "https://127.0.0.1/en/shirts"}
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


class Heard:
    """A plugin recording the offline messages it hears of (and whether they were stored)."""

    def __init__(self) -> None:
        self.events: list = []
        self.db = None

    @hookimpl
    def action_offline_message_received(self, id_shop, message):
        self.events.append((id_shop, message, len(rows(self.db, "offline_message"))))


@pytest.fixture(scope="module")
def host(ps_db, keys):
    from psonlinechat import OnlineChat

    installer.install(ps_db.engine, ps_db.tables)
    heard = Heard()
    heard.db = ps_db
    app = chat_app(ps_db, keys, chat=OnlineChat(plugins=[heard]))
    yield app, heard
    get_state(app).stop_chat()
    get_state(app).engine.dispose()


@pytest.fixture
def site(host, ps_db):
    app, heard = host
    shop = get_state(app).shop
    reset(ps_db, shop)
    heard.events.clear()
    with SmtpServer() as server:
        smtp_config(ps_db, server.port)
        yield app, ps_db, server, heard
    reset(ps_db, shop)


def configure(app, db, values):
    """Save these Online Chat settings for the test shop, as its Configuration page would."""
    shop = get_state(app).shop
    with shop.connect() as conn:
        shop.settings_store.save(conn, db.tables, db.ids["shop"], values)
        conn.commit()


def send(app, body=None, *, form=None, origin=f"http://{HOST}", cookie=None, address=None,
         headers=None):
    headers = dict(headers or {})
    if origin is not None:
        headers["Origin"] = origin
    if cookie:
        headers["Cookie"] = f"{cookie[0]}={cookie[1]}"
    client = app.test_client(use_cookies=False)
    environ = {"REMOTE_ADDR": address or next(_addresses)}
    if form is not None:
        return client.post(URL, data=form, base_url=f"http://{HOST}", headers=headers,
                           environ_base=environ)
    return client.post(URL, json=POST if body is None else body, base_url=f"http://{HOST}",
                       headers=headers, environ_base=environ)


def test_a_post_is_stored_mailed_and_heard(site):
    app, db, server, heard = site
    response = send(app)
    assert response.status_code == 201
    assert response.get_json() == {"id": rows(db, "offline_message")[0].id_offline_message,
                                   "mail": "queued"}
    (message,) = received(server)
    assert message["To"] == NOTIFY and message["Reply-To"] == "ann@example.test"
    ((id_shop, summary, stored_then),) = heard.events
    assert id_shop == db.ids["shop"] and summary["email"] == "ann@example.test"
    assert stored_then == 1  # told after the commit
    assert rows(db, "offline_message")[0].page_url == "https://127.0.0.1/en/shirts"


def test_a_form_body_works_too(site):
    app, db, server, _ = site
    assert send(app, form=POST).status_code == 201 and len(received(server)) == 1


@pytest.mark.parametrize(("change", "errors"), [
    ({"email": ""}, {"email": "required"}),
    ({"email": "not-an-address"}, {"email": "invalid_email"}),
    ({"message": " \x00\x07 "}, {"message": "required"}),
    ({"firstname": "x" * 101}, {"firstname": "too_long"}),
    ({"message": "x" * 5001}, {"message": "too_long"}),
    ({"lastname": 42}, {"lastname": "not_text"}),
])
def test_per_field_errors_and_nothing_stored(site, change, errors):
    app, db, server, heard = site
    response = send(app, {**POST, **change})
    assert response.status_code == 422
    assert response.get_json() == {"error": "invalid", "errors": errors}
    assert rows(db, "offline_message") == [] and rows(db, "mail") == []
    assert server.messages == [] and heard.events == []


def test_requested_fields_may_stay_empty_hidden_ones_are_dropped(site):
    app, db, server, _ = site
    configure(app, db, {"offline_fields": {
        "firstname": "required", "lastname": "hidden", "phone": "requested"}})
    refused = send(app, {**POST, "firstname": ""})
    assert refused.get_json()["errors"] == {"firstname": "required"}
    assert send(app, {**POST, "lastname": "Kept?"}).status_code == 201
    (message,) = rows(db, "offline_message")
    assert (message.firstname, message.lastname, message.phone) == ("Ann", "", "")


def test_a_signed_in_customers_name_and_email_fill_the_empty_fields(site, keys):
    app, db, server, _ = site
    _, cookie = db.signed_in_customer(keys, email="known@example.test", firstname="Kim",
                                      lastname="Known")
    response = send(app, {"message": "Hello"}, cookie=cookie)
    assert response.status_code == 201
    (message,) = rows(db, "offline_message")
    assert (message.firstname, message.lastname, message.email) == (
        "Kim", "Known", "known@example.test")
    assert message.id_customer is not None
    assert received(server)[0]["Reply-To"] == "known@example.test"


def test_refused_when_offline_mode_is_off(site):
    app, db, server, _ = site
    configure(app, db, {"offline_mode": False})
    response = send(app)
    assert response.status_code == 409 and response.get_json()["error"] == "offline_mode_off"
    assert rows(db, "offline_message") == []


@pytest.mark.parametrize("origin", [None, "http://evil.example", "http://127.0.0.1:8081",
                                    "http://127.0.0.1, http://evil.example", "null"])
def test_a_foreign_or_missing_origin_is_refused(site, origin):
    app, db, _, _ = site
    response = send(app, origin=origin)
    assert response.status_code == 403 and rows(db, "offline_message") == []


def test_the_honeypot_and_a_bad_body_are_refused(site):
    app, db, server, _ = site
    assert send(app, {**POST, offline.HONEYPOT: "http://spam.example"}).status_code == 400
    assert send(app, ["not", "an", "object"]).status_code == 400
    assert rows(db, "offline_message") == [] and server.messages == []


def test_an_oversized_post_is_refused_before_it_is_read(site):
    app, db, _, _ = site
    response = send(app, {**POST, "message": "x" * offline.MAX_BODY})
    assert response.status_code == 413 and rows(db, "offline_message") == []


def test_a_flood_from_one_address_hits_the_rate_limit(site):
    app, db, server, _ = site
    answers = [send(app, address="203.0.113.9").status_code for _ in range(offline.RATE_LIMIT + 3)]
    assert answers == [201] * offline.RATE_LIMIT + [429] * 3
    limited = send(app, address="203.0.113.9")
    assert int(limited.headers["Retry-After"]) > 0
    assert send(app, address="203.0.113.10").status_code == 201  # another address
    assert len(rows(db, "offline_message")) == offline.RATE_LIMIT + 1


def flood(apps, count):
    """``count`` posts from one new address, one app (worker) after another; the statuses."""
    address = next(_addresses)
    return [send(apps[n % len(apps)], address=address).status_code for n in range(count)]


def test_with_redis_every_worker_counts_an_address_together(site, keys, redis_url):
    app, db, server, _ = site
    shared = [chat_app(db, keys, PSONLINECHAT_REDIS_URL=redis_url) for _ in range(2)]
    apart = [chat_app(db, keys) for _ in range(2)]
    try:
        assert flood(shared, offline.RATE_LIMIT + 2) == [201] * offline.RATE_LIMIT + [429] * 2
        assert flood(apart, offline.RATE_LIMIT + 2) == [201] * (offline.RATE_LIMIT + 2)
        received(server, 2 * offline.RATE_LIMIT + 2)
    finally:
        for made in shared + apart:
            get_state(made).stop_chat()
            get_state(made).engine.dispose()


INJECTION = "x\r\nBcc: victim@example.test"


@pytest.mark.parametrize("field", ["firstname", "lastname", "email", "phone"])
def test_a_line_break_in_a_one_line_field_is_refused(site, field):
    app, db, _, _ = site
    configure(app, db, {"offline_fields": {"phone": "requested"}})
    for value in (INJECTION, "x\nBcc: v@example.test", "a@b.example\rBcc: v@example.test"):
        response = send(app, {**POST, field: value})
        assert response.status_code == 422 and field in response.get_json()["errors"]
    assert rows(db, "offline_message") == []


def test_header_lines_in_the_message_stay_in_the_body(site):
    app, db, server, _ = site
    assert send(app, {**POST, "message": INJECTION + "\r\n\r\nSubject: spoof"}).status_code == 201
    (message,) = received(server)
    (envelope,) = server.recorder.envelopes
    assert envelope[1] == [NOTIFY] and message["Bcc"] is None
    assert message["Subject"].startswith("[Test shop]")
    assert "Bcc: victim@example.test" in message.get_body(("plain",)).get_content()


#: Line breaks of every kind: CR, LF, both, vertical tab, form feed, NEL, and Unicode's
#: line and paragraph separators.
BREAKS = ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"]
#: The headers an offline mail has, and no other.
HEADERS = {"From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version",
           "Content-Type"}


def test_no_field_can_add_a_header_or_a_recipient(site):
    """Every field of a real post (the page URL too) carrying every kind of line break
    followed by headers: refused, or mailed with the mail's own headers only, to the
    merchant only."""
    app, db, server, _ = site
    configure(app, db, {"offline_fields": {"phone": "requested"}})
    tail = "Bcc: victim@example.test{}Subject: spoof"
    accepted = 0
    for field in ("firstname", "lastname", "email", "phone", "page_url", "message"):
        for brk in BREAKS:
            value = POST.get(field, "ann") + brk + tail.format(brk)
            status = send(app, {**POST, field: value}).status_code
            assert status in (201, 422), (field, repr(brk), status)
            accepted += status == 201
    assert accepted >= len(BREAKS)  # the message field takes them all, as text
    received(server, accepted)
    wait_until(lambda: {m.state for m in rows(db, "mail")} == {"sent"})
    messages, envelopes = server.messages, list(server.recorder.envelopes)
    assert len(messages) == accepted
    for message, (_, recipients) in zip(messages, envelopes, strict=True):
        assert recipients == [NOTIFY] and set(message.keys()) == HEADERS
        assert message["Reply-To"] in ("ann@example.test", "shop@example.test")
        assert message["Subject"] == "[Test shop] New message from the chat's contact form"
    assert all(not m.page_url or "victim" not in m.page_url
               for m in rows(db, "offline_message"))


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'


def test_html_in_every_field_is_escaped_in_the_mail(site):
    app, db, server, _ = site
    configure(app, db, {"offline_fields": {"phone": "requested"}})
    page = "https://127.0.0.1/?q=" + SCRIPT.replace(" ", "")
    response = send(app, {**POST, "firstname": SCRIPT, "lastname": SCRIPT,
                          "message": SCRIPT + "\n" + SCRIPT, "page_url": page})
    assert response.status_code == 201
    assert rows(db, "offline_message")[0].page_url == page  # kept, never mailed
    for field, value in (("email", "<b>@example.test"), ("phone", "<script>")):
        refused = send(app, {**POST, field: value})
        assert refused.status_code == 422 and field in refused.get_json()["errors"]
    (message,) = received(server)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",))
    assert "<script" not in html and "<img" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 4
    assert "&amp;amp;" in html
    assert text.get_content_type() == "text/plain"  # no markup is read in the text part
    assert text.get_content().count(SCRIPT) == 4


def test_the_mail_leaves_after_the_commit(site):
    """The host's mailer, asked to send, finds the message and its mail committed."""
    app, db, _, _ = site
    seen = []

    class Checking:
        def send(self, message):
            seen.append((len(rows(db, "offline_message")), [m.state for m in rows(db, "mail")]))

    state = get_state(app)
    state.mailer = Checking()
    try:
        assert send(app).get_json()["mail"] == "queued"
        wait_until(lambda: rows(db, "mail")[0].state == "sent")
    finally:
        state.mailer = None
    assert seen == [(1, ["pending"])]


def test_the_demo_mails_an_offline_message_to_its_outbox(demo):
    response = demo.test_client().post(URL, json=POST, headers={"Origin": "http://localhost"})
    assert response.status_code == 201
    (eml,) = wait_until(get_state(demo).mailer.messages)
    assert b"Is the red one in stock?" in eml.read_bytes()
    get_state(demo).stop_chat()
