"""PrestaShop's password hashes: bcrypt $2y$ first, legacy md5(cookie_key + password) after."""

from __future__ import annotations

import hashlib

import pytest

from psonlinechat.prestashop import passwords

PHP_HASH = "$2y$10$CssiRBJwsGiVIzGuSwQEJeLVgrj27u29oPxKQYR4SCdE7CNf6h6MS"  # "secret123", by PHP


def test_php_bcrypt_hash_verifies():
    assert passwords.verify_password("secret123", PHP_HASH)
    assert not passwords.verify_password("secret124", PHP_HASH)
    assert not passwords.verify_password("", PHP_HASH)


def test_hash_password_writes_php_style_hashes():
    hashed = passwords.hash_password("s3cret é")
    assert hashed.startswith("$2y$10$") and len(hashed) == 60
    assert passwords.is_bcrypt(hashed)
    assert passwords.verify_password("s3cret é", hashed)
    assert not passwords.verify_password("s3cret e", hashed)


def test_only_the_first_72_bytes_count_as_in_php():
    hashed = passwords.hash_password("a" * 72, rounds=4)
    assert passwords.verify_password("a" * 72 + "tail", hashed)
    assert not passwords.verify_password("a" * 71, hashed)


def test_legacy_md5_needs_the_cookie_key():
    stored = hashlib.md5(b"KEYsecret123").hexdigest()
    assert passwords.verify_password("secret123", stored, cookie_key="KEY")
    assert not passwords.verify_password("secret123", stored, cookie_key="OTHER")
    assert not passwords.verify_password("secret123", stored)
    assert not passwords.verify_password("secret124", stored, cookie_key="KEY")


@pytest.mark.parametrize("stored", [
    "", "plain", "$2y$10$short", "$2y$10$" + "!" * 53, "0" * 31, "Z" * 32, None,
])
def test_malformed_stored_hashes_never_match(stored):
    assert not passwords.verify_password("secret123", stored, cookie_key="KEY")


def test_non_string_password_never_matches():
    assert not passwords.verify_password(None, PHP_HASH)  # type: ignore[arg-type]
