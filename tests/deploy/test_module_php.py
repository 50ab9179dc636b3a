"""The PrestaShop module: its zip, ``php -l`` on every file, and its php-cli tests.

The php-cli tests (``php/module_test.php``) run the module from the zip the console
command writes, through stub PrestaShop classes (``php/stubs.php``), against a fake
bridge (``php -S`` with ``php/fake_bridge.php``) that echoes what it received, waits, or
fails.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import zipfile

import pytest

from psonlinechat.deploy import module_zip
from tests.support import webservers
from tests.support.served import free_port

PHP_TESTS = pathlib.Path(__file__).with_name("php")
CASES = re.findall(r"^    '(\w+)' => function", (PHP_TESTS / "module_test.php").read_text(),
                   re.MULTILINE)
CLI = pathlib.Path(sys.executable).with_name("psonlinechat")


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory) -> pathlib.Path:
    """The module's folder, unpacked from the zip ``psonlinechat prestashop-module`` wrote."""
    webservers.require(webservers.PHP)
    out = tmp_path_factory.mktemp("zip")
    done = subprocess.run([str(CLI), "prestashop-module", "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [archive] = out.glob("psonlinechat-*.zip")
    assert str(archive) in done.stdout
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(out)
    return out / "psonlinechat"


@pytest.fixture(scope="module")
def fake_bridge(module_dir):
    port = free_port()
    process = subprocess.Popen([webservers.PHP, "-S", f"127.0.0.1:{port}",
                                str(PHP_TESTS / "fake_bridge.php")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        webservers.wait_port(port, process, PHP_TESTS / "fake_bridge.php")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def test_the_zip_holds_the_module_folder():
    files = module_zip.module_files()
    assert all(name.startswith("psonlinechat/") for name in files)
    folders = {name.rsplit("/", 1)[0] for name in files}
    assert {f"{folder}/index.php" for folder in folders} <= set(files), "a guard in every folder"
    assert {"psonlinechat/psonlinechat.php", "psonlinechat/config.xml", "psonlinechat/logo.png",
            "psonlinechat/views/templates/admin/configure.tpl",
            "psonlinechat/controllers/admin/AdminPsonlinechatController.php"} <= set(files)
    config_xml = files["psonlinechat/config.xml"].decode()
    assert f"<version><![CDATA[{module_zip.module_version()}]]></version>" in config_xml
    assert len(module_zip.module_version()) <= 8, "PrestaShop's module.version is VARCHAR(8)"


def test_every_php_file_stops_outside_prestashop():
    for name, data in module_zip.module_files().items():
        if name.endswith(".php") and not name.endswith("/index.php"):
            assert b"if (!defined('_PS_VERSION_')) {\n    exit;\n}" in data, name


def test_the_logo_is_a_32_pixel_png():
    logo = module_zip.logo_png()
    assert logo.startswith(b"\x89PNG\r\n\x1a\n")
    assert logo[16:24] == (32).to_bytes(4, "big") * 2
    assert len(logo) < 1024


def test_the_zip_is_the_same_bytes_every_time(tmp_path):
    first = module_zip.write_zip(tmp_path / "a").read_bytes()
    assert module_zip.write_zip(tmp_path / "b").read_bytes() == first


def test_php_lint_on_every_file(module_dir):
    files = sorted(module_dir.rglob("*.php")) + sorted(PHP_TESTS.rglob("*.php"))
    assert len(list(module_dir.rglob("*.php"))) == 8
    for path in files:
        done = subprocess.run([webservers.PHP, "-l", str(path)], capture_output=True, text=True,
                              timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_cli_refuses_a_folder_it_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = subprocess.run([str(CLI), "prestashop-module", "--out", str(blocker / "sub")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "cannot write the module's zip" in done.stderr


@pytest.mark.parametrize("case", CASES)
def test_module_under_php_cli(case, module_dir, fake_bridge):
    done = subprocess.run([webservers.PHP, str(PHP_TESTS / "module_test.php"), str(module_dir),
                           fake_bridge, case], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok"


def test_the_php_cases_are_all_collected():
    assert len(CASES) == 8 and "bridge_slow" in CASES
