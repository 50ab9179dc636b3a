"""PHP's casts, and whole numbers read from text that may hold any digit-like character."""

from __future__ import annotations

import pytest

from psonlinechat.prestashop.php import ascii_digits, php_int, php_string


@pytest.mark.parametrize("text, number", [
    ("42", 42), (" 7 ", 7), ("0", 0), ("²", None), ("３", None), ("12a", None), ("", None),
    ("-3", None), ("1.5", None),
])
def test_ascii_digits(text, number):
    assert ascii_digits(text) == number


def test_php_casts():
    assert php_int(" 12abc") == 12 and php_int("x") == 0 and php_int(None) == 0
    assert php_string(None) == "" and php_string(True) == "1" and php_string(3) == "3"
