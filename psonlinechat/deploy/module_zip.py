"""The PrestaShop module's zip, as a merchant uploads it in the Module Manager.

The module's PHP lives in ``prestashop_module/psonlinechat/`` (package data). The zip holds
that folder, the guard ``index.php`` (kept once, at its root) copied into every folder as
PrestaShop modules ship it, and a ``logo.png`` drawn here (32×32, so no binary file is kept
in the source tree). Entries carry a fixed date, so the same sources always give the same bytes.
"""

from __future__ import annotations

import importlib.resources
import pathlib
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

#: The module's technical name: its folder, its main file and its class (lower case).
MODULE_NAME = "psonlinechat"
#: The date every zip entry carries (zip dates start in 1980).
ENTRY_DATE = (2024, 1, 1, 0, 0, 0)
LOGO_SIZE = 32
#: The file that stops a folder's listing (PrestaShop Addons' convention), in every folder.
GUARD = "index.php"
_VERSION_RE = re.compile(r"\$this->version = '([^']+)';")


def _source() -> importlib.resources.abc.Traversable:
    return importlib.resources.files(__package__).joinpath("prestashop_module", MODULE_NAME)


def _walk(folder: importlib.resources.abc.Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        name = f"{prefix}/{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _walk(entry, name)
        else:
            yield name, entry.read_bytes()


def module_files() -> dict[str, bytes]:
    """Every file of the module by its path in the zip (``psonlinechat/...``): the sources, a
    guard ``index.php`` in every folder, and the logo."""
    files = dict(_walk(_source(), MODULE_NAME))
    guard = files[f"{MODULE_NAME}/{GUARD}"]
    for name in list(files):
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            files.setdefault("/".join(parts[:depth]) + f"/{GUARD}", guard)
    files[f"{MODULE_NAME}/logo.png"] = logo_png()
    return files


def module_version() -> str:
    """The version ``psonlinechat.php`` declares.

    :raises ValueError: the main file declares none.
    """
    main = _source().joinpath(f"{MODULE_NAME}.php").read_text(encoding="utf-8")
    found = _VERSION_RE.search(main)
    if found is None:
        raise ValueError(f"{MODULE_NAME}.php declares no $this->version")
    return found.group(1)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _logo_pixel(x: int, y: int) -> tuple[int, int, int, int]:
    """A speech bubble: a rounded blue square with a tail, three white dots inside."""
    inside = 3 <= x <= 28 and 4 <= y <= 22 and not (
        (x in (3, 28)) and (y in (4, 22)))
    tail = 8 <= x <= 13 and 23 <= y <= 28 and x - 8 <= 28 - y
    if not (inside or tail):
        return (0, 0, 0, 0)
    if y in (12, 13, 14) and any(cx - 1 <= x <= cx + 1 for cx in (10, 16, 22)):
        return (255, 255, 255, 255)
    return (37, 99, 235, 255)


def logo_png() -> bytes:
    """The module's 32×32 logo as PNG bytes (RGBA, drawn by :func:`_logo_pixel`)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(_logo_pixel(x, y)) for x in range(LOGO_SIZE))
        for y in range(LOGO_SIZE))
    header = struct.pack(">IIBBBBB", LOGO_SIZE, LOGO_SIZE, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows, 9)) + _png_chunk(b"IEND", b""))


def zip_name() -> str:
    """``psonlinechat-<version>.zip``."""
    return f"{MODULE_NAME}-{module_version()}.zip"


def write_zip(out_dir: str | pathlib.Path) -> pathlib.Path:
    """Write the module's zip into ``out_dir`` (created if missing); its path.

    :raises OSError: the folder or the file cannot be written.
    :raises ValueError: the module's main file declares no version.
    """
    folder = pathlib.Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / zip_name()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(module_files().items()):
            info = zipfile.ZipInfo(name, date_time=ENTRY_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return target
