"""Each guard of the chat sockets, met by a hostile input; the socket stays usable."""

from __future__ import annotations

import base64
import http.client
import json
import os

import pytest
import sqlalchemy as sa

from psonlinechat.web.sockets.routes import origin_allowed
from tests.support.chatclient import ChatShop, cookie_header

CHAT_SETTINGS = {"heartbeat_seconds": 5, "rate_limit": 3, "rate_window": 30,
                 "max_message_length": 50, "allowed_origins": "https://partner.example"}


@pytest.fixture(scope="module")
def shop(chat_shop):
    """The module's chat shop (tests/conftest.py) with an operator online throughout."""
    chat_shop.operator()
    return chat_shop


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null",
                                    "http://127.0.0.1.evil.example"])
def test_foreign_or_missing_origin_is_refused_before_upgrade(shop, origin):
    assert shop.handshake("visitor", shop.anonymous(), origin=origin) == 403
    assert shop.handshake("operator", shop.employee(f"{origin}@example.test"),
                          origin=origin) == 403


def test_origin_rules():
    hosts = {"shop.example", "www.shop.example:8443"}
    bridge = "http://bridge:5000"  # the request's own origin: its scheme and Host
    assert origin_allowed("https://shop.example", bridge, hosts, ())
    assert origin_allowed("http://shop.example", bridge, hosts, ())
    assert origin_allowed("http://shop.example:80", bridge, hosts, ())
    assert origin_allowed("https://shop.example:443", bridge, hosts, ())
    assert origin_allowed("https://www.shop.example:8443", bridge, hosts, ())
    assert origin_allowed("http://bridge:5000", bridge, hosts, ())
    assert origin_allowed("https://partner.example", bridge, hosts, ("https://partner.example/",))
    assert origin_allowed("https://partner.example", bridge, hosts,
                          ("https://partner.example:443",))
    # shop_url may hold an internationalised name; browsers send its punycode
    assert origin_allowed("https://xn--bcher-kva.example", bridge, {"Bücher.example"}, ())
    assert origin_allowed("https://xn--bcher-kva.example:8443", bridge,
                          {"bücher.example:8443"}, ())


@pytest.mark.parametrize("origin", [
    "http://shop.example:8080",  # a shop_url row without a port means the default port
    "https://shop.example:80",
    "http://shop.example:443",
    "https://www.shop.example",
    "https://bridge:5000",  # the request's own host, but not its scheme
    "http://bridge",
    "http://partner.example",  # not the scheme given in allowed_origins
    "https://partner.example:8443",
    "http://shop.example,http://evil.example",  # two Origin headers, joined by the server
    "http://shop.example, http://evil.example",
    "http://shop.example http://evil.example",  # a list of origins
    "http://evil.example@shop.example",
    "http://shop.example/page",
    "javascript:alert(1)",
    "http://[::1",  # urlsplit raised ValueError
    "http://[shop.example]",
    "http://shop.example:99999",
    "https://bucher.example",
])
def test_origin_rules_refuse(origin):
    hosts = {"shop.example", "www.shop.example:8443", "bücher.example"}
    assert not origin_allowed(origin, "http://bridge:5000", hosts,
                              ("https://partner.example",))


def test_a_shop_url_port_of_odd_digits_means_the_default_port_and_never_raises():
    hosts = {"shop.example:²", "other.example:３"}
    assert origin_allowed("http://shop.example", "http://bridge:5000", hosts, ())
    assert origin_allowed("https://other.example", "http://bridge:5000", hosts, ())
    assert not origin_allowed("http://shop.example:2", "http://bridge:5000", hosts, ())


def raw_handshake(shop: ChatShop, who: str, headers: list[tuple[str, str]]) -> int:
    """The status of a handshake sending ``headers`` as given, a header twice included."""
    conn = http.client.HTTPConnection("127.0.0.1", shop.server.port, timeout=5)
    try:
        conn.putrequest("GET", f"/psonlinechat/ws/{who}")
        for name, value in [("Connection", "Upgrade"), ("Upgrade", "websocket"),
                            ("Sec-WebSocket-Version", "13"),
                            ("Sec-WebSocket-Key", base64.b64encode(os.urandom(16)).decode()),
                            *headers]:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_the_origin_is_compared_by_scheme_host_and_port(shop):
    """Three handshakes an outside test saw accepted: another scheme on the server's own
    host and port, another port of a shop_url row that names none, and two Origins."""
    port = shop.server.port
    cookies = shop.anonymous()
    assert shop.handshake("visitor", cookies, origin=f"https://127.0.0.1:{port}") == 403
    assert shop.handshake("visitor", cookies, origin="http://127.0.0.1:8080") == 403
    cookie = cookie_header(cookies)
    assert raw_handshake(shop, "visitor", [("Origin", shop.origin), ("Cookie", cookie)]) == 101
    assert raw_handshake(shop, "visitor", [("Origin", shop.origin),
                                           ("Origin", "http://evil.example"),
                                           ("Cookie", cookie)]) == 403
    operator = "; ".join(f"{n}={v}" for n, v in shop.employee("two-origins@example.test"))
    assert raw_handshake(shop, "operator", [("Origin", shop.origin), ("Origin", shop.origin),
                                            ("Cookie", operator)]) == 403


def test_an_unparsable_origin_is_refused_not_a_server_error(shop):
    assert shop.handshake("visitor", shop.anonymous(), origin="http://[::1") == 403


def test_allowed_origin_setting_is_accepted(shop):
    client = shop.connect("visitor", shop.anonymous(), origin="https://partner.example")
    assert client.hello()["type"] == "welcome"


def test_operator_socket_needs_an_employee(shop):
    for cookies in ([], shop.anonymous(), shop.customer("eve-not-staff@example.test")[1]):
        assert shop.handshake("operator", cookies) == 401


def test_wrong_token_is_refused_and_a_fresh_one_given(shop):
    victim = shop.visitor()
    ack = victim.say("my private question")
    forged = ack["token"][:-4] + "AAAA"
    intruder = shop.connect("visitor", shop.anonymous())
    intruder.send("hello", token=forged, last_seq=0)
    assert intruder.expect("error")["code"] == "invalid_token"
    welcome = intruder.expect("welcome")
    assert welcome["conversation"] is None and welcome["events"] == []
    assert welcome["token"] != ack["token"]


def test_other_customers_conversation_is_unreachable(shop):
    _, ann = shop.customer("ann2@example.test")
    _, bob = shop.customer("bob2@example.test")
    ack = shop.visitor(ann).say("Ann's order 42")
    stolen = shop.connect("visitor", bob)
    stolen.send("hello", token=ack["token"], last_seq=0)
    assert stolen.expect("error")["code"] == "invalid_token"
    assert stolen.expect("welcome")["events"] == []
    # Bob's messages go to a conversation of his own.
    own = stolen.say("Bob here")
    assert own["conversation"]["id_conversation"] != ack["conversation"]["id_conversation"]


def test_oversized_and_flooded_messages_get_clear_errors(shop):
    visitor = shop.visitor()
    too_long = visitor.say("x" * 51)
    assert too_long["code"] == "message_too_long" and too_long["max_length"] == 50
    assert visitor.say("x" * 50)["type"] == "ack"  # control characters apart, 50 is fine
    visitor.send_raw(json.dumps({"type": "message", "client_id": "big", "body": "y" * 9000}))
    assert visitor.expect("error")["code"] == "frame_too_large"
    assert visitor.say("two")["type"] == "ack"
    assert visitor.say("three")["type"] == "ack"
    limited = visitor.say("four")
    assert limited["code"] == "rate_limited" and limited["retry_after"] > 0


@pytest.mark.parametrize("frame, code", [
    ("not json", "bad_json"),
    ("[1, 2]", "bad_json"),
    ('{"type": "launch"}', "unknown_type"),
    ('{"kind": "message"}', "unknown_type"),
    ('{"type": "message", "body": "hi"}', "missing_field"),
    ('{"type": "message", "client_id": 7, "body": "hi"}', "bad_field"),
    ('{"type": "message", "client_id": "a b", "body": "hi"}', "bad_field"),
    ('{"type": "message", "client_id": "c1", "body": "\\u0000\\u0007 "}', "empty_message"),
    ('{"type": "seen", "seq": -1}', "bad_field"),
    ('{"type": "typing", "on": "yes"}', "bad_field"),
    ('{"type": "hello"}', "already_greeted"),
])
def test_malformed_frames_get_an_error_and_the_socket_stays_usable(shop, frame, code):
    visitor = shop.visitor()
    visitor.send_raw(frame)
    assert visitor.expect("error")["code"] == code
    visitor.send("ping")
    assert visitor.expect("pong") == {"type": "pong"}


def test_frames_before_hello_are_refused(shop):
    visitor = shop.connect("visitor", shop.anonymous())
    visitor.send("message", client_id="early", body="hi")
    error = visitor.expect("error")
    assert error["code"] == "hello_first" and error["ref"] == "early"
    assert visitor.hello()["type"] == "welcome"


def test_control_characters_are_stripped_and_text_stored_as_given(shop):
    operator = shop.operator(shop.employee("watcher@example.test"))
    visitor = shop.visitor()
    visitor.say("<b>bold</b>\r\nline\x00two\x1b")
    message = operator.expect("message", author="customer")
    assert message["body"] == "<b>bold</b>\nlinetwo"


def test_operator_cannot_reach_another_shops_conversation(shop):
    operator = shop.operator(shop.employee("mallory@example.test"))
    for frame in ({"type": "message", "id_conversation": 999999, "client_id": "x",
                   "body": "hi"}, {"type": "end", "id_conversation": 999999},
                  {"type": "reopen", "id_conversation": 999999}):
        operator.send_raw(json.dumps(frame))
        assert operator.expect("error")["code"] == "not_found"


@pytest.mark.parametrize("frame", [
    '{"type": "message", "client_id": "s1", "body": "half \\ud800 a pair"}',
    '{"type": "message", "client_id": "s2", "body": "\\udfff"}',
])
def test_lone_surrogates_in_a_body_are_refused_and_the_socket_stays_usable(shop, frame):
    visitor = shop.visitor()
    visitor.send_raw(frame)
    error = visitor.expect("error")
    assert error["code"] == "bad_field" and error["field"] == "body"
    visitor.send("ping")
    assert visitor.expect("pong") == {"type": "pong"}


def test_lone_surrogates_in_hello_are_refused_and_the_socket_stays_usable(shop):
    for field in ("token", "page_url"):
        visitor = shop.connect("visitor", shop.anonymous())
        visitor.send_raw(f'{{"type": "hello", "{field}": "x\\ud800.y"}}')
        error = visitor.expect("error")
        assert error["code"] == "bad_field" and error["field"] == field
        assert visitor.hello()["type"] == "welcome"


def test_a_client_that_stops_reading_is_cut_and_stalls_nobody(mariadb):
    """Events to a socket whose client never reads pile up: past the outbox's limit the
    socket is cut. Before, the publisher (here the operator's own handler) blocked in
    send once the TCP buffers were full, and the operator's acks stopped."""
    from tests.support.chatclient import SilentClient

    shop = ChatShop(max_message_length=20000, rate_limit=1000)
    silent = None
    try:
        operator = shop.operator()
        silent = SilentClient(shop, shop.anonymous())
        silent.send("hello")
        silent.send("message", client_id="c1", body="are you there?")
        opened = operator.expect("conversation")["conversation"]["id_conversation"]
        body = "€" * 20000  # 60 kB of UTF-8 per event
        for n in range(150):  # 9 MB: past the outbox's 1 MiB and the kernel's buffers
            ack = operator.say(body, client_id=f"o{n}", id_conversation=opened)
            assert ack["type"] == "ack", ack
        assert silent.drain() < 150 * len(body.encode())
        visitor = shop.visitor()  # the others are served as before
        assert visitor.say("hello")["type"] == "ack"
    finally:
        if silent is not None:
            silent.close()
        shop.close()


def test_an_employee_serves_only_the_shops_the_back_office_gives_them(shop):
    """As Employee::hasAuthOnShop: a SuperAdmin every shop, anyone else their employee_shop rows."""
    t, id_shop = shop.db.tables, shop.db.ids["shop"]
    clerk = shop.employee("clerk@example.test", id_profile=4)
    refused = shop.connect("operator", clerk)
    refused.send("hello")
    assert refused.expect("error")["code"] == "not_found"
    with shop.db.engine.begin() as conn:
        id_clerk = conn.execute(sa.select(t.employee.c.id_employee).where(
            t.employee.c.email == "clerk@example.test")).scalar_one()
        conn.execute(sa.insert(t.employee_shop).values(id_employee=id_clerk, id_shop=id_shop))
    admitted = shop.connect("operator", clerk)
    assert admitted.hello()["id_shop"] == id_shop
    boss = shop.connect("operator", shop.employee("boss@example.test", id_profile=1))
    assert boss.hello()["id_shop"] == id_shop
