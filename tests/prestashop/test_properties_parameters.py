"""Properties of the parameters.php reader (hypothesis): only ConfigError on any text, and
what PHP's var_export wrote (after the installer doubled every '%') reads back as it was.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from psonlinechat.errors import ConfigError
from psonlinechat.prestashop import parameters

FAST = settings(max_examples=200, deadline=None, database=None)

#: Strings var_export writes inside single quotes. NUL is left out: var_export writes it as
#: '' . "\0" . '' (a concatenation), which parameters.php never holds.
php_text = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
                   max_size=40)
awkward_text = st.one_of(php_text, st.lists(st.sampled_from(
    ["'", "\\", "%", "%%", "\\'", "'\\", "é", "€", "\n", "?>", "*/", "//", "#", '"', "$x"]),
    max_size=12).map("".join))
ports = st.one_of(st.none(), st.just(""), st.integers(0, 65535),
                  st.integers(0, 65535).map(str), st.integers(0, 65535).map(lambda p: f" {p} "))


def var_export_string(value: str) -> str:
    """PHP's var_export of a string: single quotes, backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def var_export(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        items = "".join(f"    {var_export(key)} => {var_export(item)},\n"
                        for key, item in value.items())
        return f"\n  array (\n{items}  )"
    return var_export_string(value)


def installer_escape(value):
    """What PrestaShop's installer does before var_export: every '%' doubled."""
    if isinstance(value, str):
        return value.replace("%", "%%")
    if isinstance(value, dict):
        return {key: installer_escape(item) for key, item in value.items()}
    return value


@st.composite
def parameter_arrays(draw):
    params = {key: draw(awkward_text) for key in parameters.REQUIRED}
    for key in ("database_name", "database_prefix"):
        params[key] = draw(awkward_text.filter(bool))
    params["database_port"] = draw(ports)
    known = {"database_port", *parameters.REQUIRED}
    extras = draw(st.dictionaries(php_text.filter(lambda key: key not in known),
                                  st.one_of(awkward_text, st.integers(-10**6, 10**6),
                                            st.booleans(), st.none(),
                                            st.dictionaries(php_text, awkward_text,
                                                            max_size=3)),
                                  max_size=4))
    params.update(extras)
    keys = list(params)
    order = draw(st.permutations(keys))
    return {key: params[key] for key in order}, extras


def document(params) -> str:
    body = var_export({"parameters": installer_escape(params)})
    return f"<?php return{body};\n"


@FAST
@given(arrays=parameter_arrays())
def test_var_export_round_trip(arrays):
    params, extras = arrays
    read = parameters.from_text(document(params))
    for key in parameters.REQUIRED:
        assert getattr(read, key) == params[key]
    port = params["database_port"]
    assert read.database_port == (None if port in (None, "") else str(port).strip())
    assert read.other == extras


@FAST
@given(arrays=parameter_arrays())
def test_what_reads_gives_a_database_url(arrays):
    params, _ = arrays
    url = parameters.from_text(document(params)).database_url()
    assert url.startswith("mysql+pymysql://")


#: Fragments of PHP, so that random documents get past the tokenizer and into the parser.
php_fragments = st.sampled_from([
    "<?php", "?>", "return", "array", "(", ")", "[", "]", "=>", ",", ";", " ", "\n",
    "'parameters'", "'database_port'", "'database_host'", "'x'", "'%%'", "'\\''", "\"\\x41\"",
    "\"\\u{41}\"", "\"\\u{110000}\"", "\"\\u{fffffffffffffffffff}\"", "\"\\777\"", "\"$a\"",
    "\"\\$a\"", "0", "-1", "1.5", "1e999", "9" * 5000, "NULL", "true", "false", "/* c */",
    "// c\n", "# c\n", "'²'", "'3306'", "'db:²'", "'db:/sock'", "'[::1]:1'",
])
php_documents = st.one_of(st.text(max_size=400), st.lists(php_fragments, max_size=60)
                          .map("".join))


@FAST
@given(text=php_documents)
@example(text='<?php return "\\u{110000}";')
@example(text='<?php return "\\u{ffffffffffffffffffffff}";')
@example(text="<?php return " + "[" * 2000 + "];")
@example(text="<?php return " + "array(" * 2000 + ");")
@example(text="<?php return ['parameters' => ['database_port' => '²']];")
def test_any_text_raises_only_config_error(text):
    try:
        read = parameters.from_text(text)
    except ConfigError as exc:
        assert exc.key == parameters.ROOT_KEY
        return
    read.as_settings()  # what reads must give settings without raising


@pytest.mark.parametrize("port", ["²", "３３０６", "١٢"])
def test_a_port_of_non_ascii_digits_is_refused(port):
    text = document({**{key: "x" for key in parameters.REQUIRED}, "database_port": port})
    with pytest.raises(ConfigError, match="database_port"):
        parameters.from_text(text)


@pytest.mark.parametrize("host, expected", [
    ("db:²", "mysql+pymysql://x:x@db/x?unix_socket=%C2%B2"),
    ("db:3307", "mysql+pymysql://x:x@db:3307/x"),
])
def test_a_host_port_of_non_ascii_digits_is_not_a_port(host, expected):
    text = document({**{key: "x" for key in parameters.REQUIRED}, "database_host": host})
    assert parameters.from_text(text).database_url() == expected


@st.composite
def double_quoted(draw):
    """A string and a PHP double-quoted literal of it, each character written literally or
    as its UTF-8 bytes in \\x or octal escapes, or as \\u{…}."""
    value = draw(php_text)
    parts = []
    for char in value:
        how = draw(st.sampled_from(["literal", "hex", "octal", "unicode"]))
        if how == "literal":
            parts.append({"\\": "\\\\", '"': '\\"', "$": "\\$"}.get(char, char))
        elif how == "unicode":
            parts.append(f"\\u{{{draw(st.sampled_from(['', '0', '00']))}{ord(char):x}}}")
        else:
            form = "\\x{:02x}" if how == "hex" else "\\{:03o}"
            parts.extend(form.format(byte) for byte in char.encode())
    return value, '"' + "".join(parts) + '"'


@FAST
@given(case=double_quoted())
@example(case=("\n1", '"\\0121"'))
@example(case=("\0", '"\\0"'))
def test_double_quoted_escapes_are_bytes_as_in_php(case):
    value, literal = case
    assert parameters.parse(f"<?php return {literal};") == value


@pytest.mark.parametrize("literal", ['"\\\\$a"', '"{$a}"', '"${a}"', '"\\u{110000}"',
                                     '"\\u{d800}"', '"\\xff"', '"\\u{' + "f" * 40 + '}"'])
def test_double_quoted_strings_php_would_not_give_as_utf8_text_are_refused(literal):
    with pytest.raises(ValueError, match="line 1: double-quoted|line 1: .*code point"):
        parameters.parse(f"<?php return {literal};")


def test_deep_nesting_is_a_config_error_naming_the_line():
    with pytest.raises(ConfigError, match="line 2: arrays nested deeper than"):
        parameters.from_text("<?php return\n" + "[" * 2000 + "]" * 2000 + ";")
