"""Properties of PrestaShop cookie handling on hostile input (hypothesis).

A cookie value is whatever a browser (or an attacker) sends: decode must never raise and must
return pairs only for a value encode made with the same keys.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from psonlinechat.prestashop import cookies

FAST = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

HEX = "0123456789abcdef"
#: Text PrestaShop allows in a cookie key or value: no '|', no '¤', and valid UTF-8 (no
#: lone surrogates, which no PHP string can hold).
allowed_text = st.text(st.characters(blacklist_characters="|" + cookies.SEPARATOR,
                                     blacklist_categories=("Cs",)), max_size=40)
cookie_values = st.dictionaries(allowed_text.filter(lambda key: key != "checksum"),
                                allowed_text, min_size=1, max_size=8)
cookie_ivs = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                     min_size=8, max_size=32)


@st.composite
def cookie_keys(draw):
    return cookies.CookieKeys(cookies.make_key_string(draw(st.binary(min_size=32, max_size=32))),
                              draw(cookie_ivs))


def _hex(min_size=0, max_size=600):
    return st.text(HEX + "ABCDEF", min_size=min_size, max_size=max_size)


hostile_values = st.one_of(
    st.text(max_size=300),
    _hex(),
    _hex().map(lambda body: "def50200" + body),
    st.binary(min_size=0, max_size=400).map(lambda raw: "def50200" + raw.hex()),
    st.integers(min_value=0, max_value=20_000).map(lambda n: "def50200" + "a" * n),
    st.text(max_size=50).map(lambda tail: "def50200" + "0" * 300 + tail),
)


@FAST
@given(value=hostile_values, keys=cookie_keys())
@example(value="def50200" + "ab" * 80 + "\n", keys=cookies.CookieKeys(
    cookies.make_key_string(b"k" * 32), "iv"))
@example(value="é" * 3000, keys=cookies.CookieKeys(cookies.make_key_string(b"k" * 32), "iv"))
def test_decode_never_raises_and_refuses_what_encode_did_not_make(value, keys):
    assert cookies.decode(value, keys) is None


@FAST
@given(value=st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())),
       keys=cookie_keys())
def test_decode_refuses_values_that_are_not_text(value, keys):
    assert cookies.decode(value, keys) is None


@FAST
@given(value=hostile_values, key_string=st.text(max_size=200), cookie_iv=st.text(max_size=40))
def test_decode_with_unusable_keys_never_raises(value, key_string, cookie_iv):
    assert cookies.decode(value, cookies.CookieKeys(key_string, cookie_iv)) is None


@FAST
@given(values=cookie_values, keys=cookie_keys(),
       algorithm=st.sampled_from([cookies.SHA256, cookies.CRC32]))
def test_encode_decode_round_trip(values, keys, algorithm):
    assert cookies.decode(cookies.encode(values, keys, algorithm), keys) == values


def test_an_empty_mapping_decodes_as_an_empty_cookie():
    # PrestaShop hashes the pairs plus one '¤' when reading; with no pair that is '¤' against
    # a checksum written over '', so it too finds such a cookie empty (FACTS §3.3).
    keys = cookies.CookieKeys(cookies.make_key_string(b"k" * 32), "iv")
    assert cookies.decode(cookies.encode({}, keys), keys) is None


@FAST
@given(values=cookie_values, keys=cookie_keys(), data=st.data())
def test_changing_any_hex_digit_makes_the_cookie_empty(values, keys, data):
    value = cookies.encode(values, keys)
    index = data.draw(st.integers(0, len(value) - 1), label="index")
    old = int(value[index], 16)
    new = data.draw(st.sampled_from([d for d in HEX if int(d, 16) != old]), label="digit")
    assert cookies.decode(value[:index] + new + value[index + 1:], keys) is None


@FAST
@given(values=cookie_values, keys=cookie_keys(), data=st.data())
def test_cutting_or_extending_a_cookie_makes_it_empty(values, keys, data):
    value = cookies.encode(values, keys)
    cut = data.draw(st.integers(1, len(value)), label="cut")
    tail = data.draw(_hex(min_size=1, max_size=64), label="tail")
    assert cookies.decode(value[:-cut], keys) is None
    assert cookies.decode(value + tail, keys) is None


@FAST
@given(values=cookie_values, keys=cookie_keys(), other=cookie_keys())
def test_other_keys_read_nothing(values, keys, other):
    value = cookies.encode(values, keys)
    if other.new_cookie_key != keys.new_cookie_key:
        assert cookies.decode(value, cookies.CookieKeys(other.new_cookie_key,
                                                        keys.cookie_iv)) is None
    if other.cookie_iv != keys.cookie_iv:
        assert cookies.decode(value, cookies.CookieKeys(keys.new_cookie_key,
                                                        other.cookie_iv)) is None


@FAST
@given(values=cookie_values, cookie_iv=cookie_ivs,
       algorithm=st.sampled_from([cookies.SHA256, cookies.CRC32]))
def test_serialise_parse_round_trip(values, cookie_iv, algorithm):
    plaintext = cookies.serialise(values, cookie_iv, algorithm)
    assert cookies.parse(plaintext, cookie_iv, (algorithm,)) == values
    assert cookies.parse(plaintext, cookie_iv + "x", (algorithm,)) is None


@FAST
@given(plaintext=st.text(st.characters(blacklist_categories=("Cs",))), cookie_iv=st.text(
    st.characters(blacklist_categories=("Cs",))))
@example(plaintext="checksum|x", cookie_iv="")
@example(plaintext="a|b|c¤checksum|", cookie_iv="")
def test_parse_of_any_plaintext_returns_pairs_or_none(plaintext, cookie_iv):
    parsed = cookies.parse(plaintext, cookie_iv)
    assert parsed is None or all(isinstance(k, str) and isinstance(v, str)
                                 for k, v in parsed.items())


@FAST
@given(values=cookie_values, keys=cookie_keys(), data=st.data())
def test_a_forbidden_character_is_refused_with_a_clear_error(values, keys, data):
    bad = data.draw(st.sampled_from(["|", cookies.SEPARATOR]), label="bad")
    key = data.draw(st.sampled_from(sorted(values)), label="key")
    where = data.draw(st.sampled_from(["key", "value"]), label="where")
    spoiled = dict(values)
    if where == "key":
        spoiled[key + bad] = spoiled.pop(key)
    else:
        spoiled[key] = spoiled[key] + bad
    with pytest.raises(ValueError, match="holds '\\|' or '¤'"):
        cookies.encode(spoiled, keys)
    with pytest.raises(ValueError, match="holds '\\|' or '¤'"):
        cookies.serialise(spoiled, keys.cookie_iv)


@FAST
@given(host=st.text(max_size=300), shared=st.lists(st.text(max_size=60), max_size=4),
       share_host=st.booleans())
@example(host="[::ffff:1.2.3.4]:80", shared=[], share_host=True)
@example(host="." * 5000, shared=[], share_host=True)
@example(host="a" * 5000 + ".b", shared=[], share_host=True)
def test_cookie_domain_never_raises(host, shared, share_host):
    urls = shared + [cookies.split_host(host)] if share_host else shared
    domain = cookies.cookie_domain(host, urls)
    assert domain is None or (isinstance(domain, str) and domain)


@FAST
@given(headers=st.dictionaries(st.sampled_from(["Host", "X-Forwarded-Host", "Other"]),
                               st.text(max_size=100)),
       version=st.one_of(st.none(), st.text(max_size=20)))
def test_request_host_never_raises(headers, version):
    assert isinstance(cookies.request_host(headers, version), str)


@FAST
@given(jar=st.dictionaries(st.one_of(st.text(max_size=30),
                                     st.text(max_size=30).map(lambda s: "PrestaShop-" + s)),
                           st.text(max_size=5000), max_size=24),
       names=st.lists(st.text(max_size=30), max_size=4))
@example(jar={"PrestaShop-\udc80": "x", "ok": "\ud800"}, names=["ok"])
@example(jar={"PrestaShop-\udc80": "x"}, names=[])
def test_candidates_never_raise_and_skip_oversized(jar, names):
    chosen = cookies.candidates(jar, names)
    assert len(chosen) <= 16
    for name, value in chosen:
        assert jar[name] == value
        assert len(name.encode("utf-8", "replace")) + len(value.encode("utf-8", "replace")) \
            <= cookies.MAX_COOKIE_BYTES
