"""The shop's ``app/config/parameters.php``, read as data (never executed).

PrestaShop writes that file with PHP's ``var_export``: ``<?php return array (...);`` with
single-quoted strings (``\\'`` and ``\\\\`` escapes), ints, ``NULL``, ``true``/``false`` and
nested arrays. Before writing, the installer doubles every ``%`` (Symfony parameter
escaping) and ``config/bootstrap.php`` turns ``%%`` back into ``%`` when reading; this
module does the same to every string (FACTS §1.1, §8.3).

The parser accepts a little more than ``var_export`` writes (double-quoted strings, short
``[...]`` arrays, comments) because people do edit that file by hand.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

import sqlalchemy as sa

from psonlinechat.errors import ConfigError
from psonlinechat.prestashop.php import php_string

ROOT_KEY = "PSONLINECHAT_PRESTASHOP_ROOT"
RELATIVE_PATH = "app/config/parameters.php"

#: Keys the bridge needs from ``parameters``; the port may be empty.
REQUIRED = ("database_host", "database_name", "database_user", "database_password",
            "database_prefix", "cookie_key", "new_cookie_key", "cookie_iv")


#: Deepest array nesting read; parameters.php nests two deep, and far deeper text would
#: exhaust Python's recursion limit.
MAX_DEPTH = 32


class _ParseError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")


_TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<open_tag><\?php)
  | (?P<close_tag>\?>)
  | (?P<sq>'(?:[^'\\]|\\.)*')
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<arrow>=>)
  | (?P<punct>[()\[\],;])
""", re.S | re.X)

_DQ_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "e": "\x1b", "f": "\f",
               "\\": "\\", "$": "$", '"': '"'}
# ASCII digits only: str.isdigit also takes '²' or '３', which int() then refuses.
_PORT_RE = re.compile(r"[0-9]+")
_DQ_NUMERIC_RE = re.compile(r"x([0-9A-Fa-f]{1,2})|u\{([0-9A-Fa-f]+)\}|([0-7]{1,3})")


def _unquote_single(body: str) -> str:
    # In PHP single quotes only \' and \\ are escapes; any other backslash is literal.
    return re.sub(r"\\([\\'])", r"\1", body)


def _unquote_double(body: str, line: int) -> str:
    # PHP strings are bytes: \x and octal escapes give one byte each, \u{…} its UTF-8, and
    # the whole must then be UTF-8 (the file is read as UTF-8 text).
    out, i = bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "$" and re.match(r"[A-Za-z_{]", body[i + 1:i + 2]):
            raise _ParseError(line, "double-quoted string with a variable in it")
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _DQ_ESCAPES:
                out += _DQ_ESCAPES[nxt].encode()
                i += 2
                continue
            match = _DQ_NUMERIC_RE.match(body, i + 1)
            if match:
                hex_byte, code_point, octal = match.groups()
                if hex_byte or octal:
                    out.append(int(hex_byte, 16) if hex_byte else int(octal, 8) & 0xFF)
                elif int(code_point, 16) > 0x10FFFF:
                    raise _ParseError(line, f"\\u{{{code_point}}} is not a Unicode code point")
                else:
                    out += chr(int(code_point, 16)).encode("utf-8", "surrogatepass")
                i = match.end()
                continue
        out += char.encode("utf-8", "surrogatepass")
        i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise _ParseError(line, "double-quoted string whose escapes are not UTF-8") from None


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    pos, line = 0, 1
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match:
            raise _ParseError(line, f"unexpected {text[pos:pos + 20]!r}")
        kind, raw = match.lastgroup, match.group()
        if kind == "sq":
            tokens.append(("str", _unquote_single(raw[1:-1]), line))
        elif kind == "dq":
            tokens.append(("str", _unquote_double(raw[1:-1], line), line))
        elif kind == "number":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(("num", value, line))
        elif kind in {"word", "arrow", "punct", "open_tag", "close_tag"}:
            tokens.append((kind, raw, line))
        line += raw.count("\n")
        pos = match.end()
    tokens.append(("end", "", line))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.pos]

    def take(self, kind: str, value: str | None = None) -> tuple[str, Any, int]:
        token = self.tokens[self.pos]
        if token[0] != kind or (value is not None and str(token[1]).lower() != value):
            wanted = value or kind
            found = token[1] if token[0] != "end" else "the end of the file"
            raise _ParseError(token[2], f"expected {wanted!r}, found {found!r}")
        self.pos += 1
        return token

    def document(self) -> Any:
        if self.peek()[0] == "open_tag":
            self.pos += 1
        self.take("word", "return")
        value = self.value()
        self.take("punct", ";")
        if self.peek()[0] == "close_tag":
            self.pos += 1
        if self.peek()[0] != "end":
            raise _ParseError(self.peek()[2], f"unexpected {self.peek()[1]!r} after the array")
        return value

    def value(self) -> Any:
        kind, raw, line = self.peek()
        if kind in {"str", "num"}:
            self.pos += 1
            return raw
        if kind == "punct" and raw == "[":
            self.pos += 1
            return self.array_items("]")
        if kind == "word":
            word = raw.lower()
            self.pos += 1
            if word == "null":
                return None
            if word in {"true", "false"}:
                return word == "true"
            if word == "array":
                self.take("punct", "(")
                return self.array_items(")")
        raise _ParseError(line, f"unexpected {raw or 'end of file'!r} where a value belongs")

    def array_items(self, closer: str) -> dict[Any, Any]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _ParseError(self.peek()[2], f"arrays nested deeper than {MAX_DEPTH} levels")
        items: dict[Any, Any] = {}
        next_index = 0
        while not (self.peek()[0] == "punct" and self.peek()[1] == closer):
            first = self.value()
            if self.peek()[0] == "arrow":
                self.pos += 1
                if isinstance(first, (dict, list)) or first is None:
                    raise _ParseError(self.peek()[2], "an array key must be a string or a number")
                key, item = first, self.value()
                if isinstance(key, int):
                    next_index = max(next_index, key + 1)
            else:
                key, item = next_index, first
                next_index += 1
            items[key] = item
            if self.peek()[0] == "punct" and self.peek()[1] == ",":
                self.pos += 1
            elif not (self.peek()[0] == "punct" and self.peek()[1] == closer):
                kind, raw, line = self.peek()
                raise _ParseError(line, f"expected ',' or {closer!r}, found {raw!r}")
        self.pos += 1
        self.depth -= 1
        return items


def parse(text: str) -> Any:
    """Parse the PHP ``return <value>;`` document ``text`` into Python values.

    Arrays become dicts (keys as written); strings are returned as written (no ``%%``
    un-escaping here).

    :raises ValueError: the text is not such a document; the message names the line.
    """
    try:
        return _Parser(text).document()
    except _ParseError as exc:
        raise ValueError(str(exc)) from None


def _unescape_percent(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("%%", "%")
    if isinstance(value, dict):
        return {key: _unescape_percent(item) for key, item in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class ShopParameters:
    """What ``parameters.php`` says, ``%%`` already turned into ``%``.

    ``other`` keeps every other key of ``parameters`` (``secret``, ``mailer_*``, …).
    """

    database_host: str
    database_port: str | None
    database_name: str
    database_user: str
    database_password: str
    database_prefix: str
    cookie_key: str
    new_cookie_key: str
    cookie_iv: str
    other: dict[str, Any] = dataclasses.field(default_factory=dict)

    def database_url(self) -> str:
        """The shop's database as a ``mysql+pymysql://`` URL (credentials URL-quoted).

        The host may carry a port (``db:3307``) or a socket (``localhost:/run/mysqld.sock``)
        as PrestaShop's own connection code accepts; ``database_port`` wins when set.
        """
        host, port, socket = self.database_host.strip(), None, None
        if ":" in host and not host.startswith("["):
            host, _, tail = host.partition(":")
            if _PORT_RE.fullmatch(tail):
                port = int(tail)
            elif tail:
                socket = tail
        elif host.startswith("/"):
            host, socket = "localhost", host
        if self.database_port not in (None, ""):
            port = int(str(self.database_port))
        url = sa.URL.create("mysql+pymysql", username=self.database_user or None,
                            password=self.database_password or None, host=host or "localhost",
                            port=port, database=self.database_name,
                            query={"unix_socket": socket} if socket else {})
        return url.render_as_string(hide_password=False)

    def as_settings(self) -> dict[str, str]:
        """The values :func:`psonlinechat.config.load` takes as ``shop_parameters``."""
        return {"database_url": self.database_url(), "table_prefix": self.database_prefix,
                "cookie_key": self.cookie_key, "new_cookie_key": self.new_cookie_key,
                "cookie_iv": self.cookie_iv}


def from_text(text: str, *, source: str = RELATIVE_PATH) -> ShopParameters:
    """Read the contents of a parameters.php file.

    :raises ConfigError: (naming PSONLINECHAT_PRESTASHOP_ROOT) the text cannot be parsed, or
        lacks the ``parameters`` array or one of the keys in :data:`REQUIRED`.
    """
    try:
        document = parse(text)
    except ValueError as exc:
        raise ConfigError(
            ROOT_KEY, f"points to a shop whose {source} is unreadable: {exc}"
        ) from None
    params = document.get("parameters") if isinstance(document, dict) else None
    if not isinstance(params, dict):
        raise ConfigError(ROOT_KEY, f"points to a shop whose {source} has no 'parameters' array")
    params = _unescape_percent(params)
    missing = [key for key in REQUIRED if key not in params]
    if missing:
        raise ConfigError(ROOT_KEY, f"points to a shop whose {source} lacks {', '.join(missing)}")
    for key in ("database_prefix", "database_name"):
        if not php_string(params[key]):
            raise ConfigError(ROOT_KEY, f"points to a shop whose {source} has an empty {key}")
    port = params.get("database_port")
    if port not in (None, "") and not _PORT_RE.fullmatch(str(port).strip()):
        raise ConfigError(ROOT_KEY, f"points to a shop whose {source} has database_port "
                                    f"{port!r}, not a number")
    known = {field.name for field in dataclasses.fields(ShopParameters)}
    return ShopParameters(
        database_host=php_string(params["database_host"]),
        database_port=None if port in (None, "") else str(port).strip(),
        **{key: php_string(params[key]) for key in REQUIRED if key != "database_host"},
        other={key: value for key, value in params.items() if key not in known},
    )


def read(root: str | pathlib.Path) -> ShopParameters:
    """Read ``<root>/app/config/parameters.php``.

    :raises ConfigError: (naming PSONLINECHAT_PRESTASHOP_ROOT) the folder or file is missing
        or unreadable, or the file is malformed or lacks a needed key.
    """
    path = pathlib.Path(root) / RELATIVE_PATH
    if not pathlib.Path(root).is_dir():
        raise ConfigError(ROOT_KEY, f"is {str(root)!r}, which is not a folder")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = (" (only the old parameters.yml exists: open the shop once so that PrestaShop "
                "converts it)" if path.with_suffix(".yml").exists() else "")
        raise ConfigError(
            ROOT_KEY, f"is {str(root)!r}, which has no {RELATIVE_PATH}{hint}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            ROOT_KEY, f"is {str(root)!r}, whose {RELATIVE_PATH} cannot be read: {exc}"
        ) from None
    return from_text(text, source=str(path))
