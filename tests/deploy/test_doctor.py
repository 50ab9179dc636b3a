"""``psonlinechat doctor`` on a correct deployment and on broken ones: nginx + php-fpm from
the recipes, the bridge under ``psonlinechat serve``, the shop's database, an SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from psonlinechat.deploy import doctor
from psonlinechat.deploy.findings import OK, PROBLEM
from psonlinechat.store import configuration
from tests.deploy.conftest import nginx_site, recipe
from tests.support import webservers
from tests.support.served import free_port
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.slow
CLI = os.path.join(os.path.dirname(sys.executable), "psonlinechat")
HOOKS = ("displayHeader", "displayFooter", "displayBackOfficeHeader", "displayBackOfficeFooter")


@pytest.fixture(scope="module")
def nginx(folder, docroot, bridge, fpm):
    daemon, site = nginx_site(folder / "doctor", docroot, bridge.port, fpm.port)
    with daemon:
        yield site


@pytest.fixture
def shop_root(tmp_path, deploy_shop):
    """A shop folder whose parameters.php names the test database."""
    deploy_shop.db.write_parameters_php(tmp_path, new_cookie_key=deploy_shop.keys.new_cookie_key,
                                        cookie_iv=deploy_shop.keys.cookie_iv)
    return tmp_path


@pytest.fixture
def registered(deploy_shop):
    """The PHP module's rows, as PrestaShop's Module Manager writes them on install."""
    engine, p = deploy_shop.db.engine, deploy_shop.db.prefix
    with engine.begin() as conn:
        id_module = conn.execute(sa.text(
            f"INSERT INTO {p}module (name, active, version) VALUES ('psonlinechat', 1, '0.1.0')"
        )).lastrowid
        for position, name in enumerate(HOOKS, 1):
            conn.execute(sa.text(f"INSERT IGNORE INTO {p}hook (name, title) VALUES (:n, :n)"),
                         {"n": name})
            conn.execute(sa.text(
                f"INSERT INTO {p}hook_module (id_module, id_shop, id_hook, position) "
                f"SELECT :m, 1, id_hook, :pos FROM {p}hook WHERE name = :n"),
                {"m": id_module, "n": name, "pos": position})
    yield
    with engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {p}hook_module WHERE id_module = :m"), {"m": id_module})
        conn.execute(sa.text(f"DELETE FROM {p}module WHERE id_module = :m"), {"m": id_module})


def smtp_settings(deploy_shop, port: int) -> None:
    with deploy_shop.db.engine.begin() as conn:
        for name, value in (("PS_MAIL_METHOD", "2"), ("PS_MAIL_SERVER", "127.0.0.1"),
                            ("PS_MAIL_SMTP_PORT", str(port)),
                            ("PS_MAIL_SMTP_ENCRYPTION", "off"),
                            ("PS_SHOP_EMAIL", "shop@example.test")):
            configuration.update_value(conn, deploy_shop.db.tables, name, value)


def statuses(findings) -> dict[str, str]:
    return {item.check: item.status for item in findings.items}


def run_cli(shop_root, shop_url: str, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSONLINECHAT_")}
    env["PSONLINECHAT_SECRET_KEY"] = "doctor"
    return subprocess.run([CLI, "doctor", "--prestashop-root", str(shop_root), "--shop-url",
                           shop_url, "--timeout", "3", *extra], env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_correct_deployment(nginx, shop_root, registered, deploy_shop):
    with SmtpServer() as smtp:
        smtp_settings(deploy_shop, smtp.port)
        config = {"PSONLINECHAT_PRESTASHOP_ROOT": str(shop_root),
                  "PSONLINECHAT_SECRET_KEY": "doctor"}
        findings = doctor.diagnose(config, f"{nginx.url}/index.php", timeout=3)
        assert findings.problems == [], findings.report(nginx.url)
        assert set(statuses(findings).values()) == {OK}
        assert list(statuses(findings)) == [
            "parameters.php", "database", "bridge tables", "module", "shop URL",
            "bridge via proxy", "websocket", "foreign origin", "fragment", "origin hosts", "mail"]
        assert smtp.messages == [], "nothing is sent unless asked"
        done = run_cli(shop_root, f"{nginx.url}/index.php", "--send-test-mail",
                       "owner@example.test")
        print("\n" + done.stdout)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "No problem found." in done.stdout
        assert "a test mail went to owner@example.test" in done.stdout
        [sent] = smtp.messages
        assert sent["To"] == "owner@example.test"


def test_a_deployment_without_proxy_module_or_mail(folder, docroot, fpm, shop_root,
                                                    deploy_shop):
    """The shop's nginx lacks the proxy location, the module was never installed and the
    mail server is down: each is named, with its fix, and the command exits 1."""
    smtp_settings(deploy_shop, free_port())
    bare = f"""server {{
    listen 127.0.0.1:{{port}};
    root {docroot};
    index index.php;
    location ~ \\.php$ {{
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass 127.0.0.1:{fpm.port};
    }}
}}"""
    port = free_port()
    with webservers.nginx(folder / "bare", bare.replace("{port}", str(port)), port):
        done = run_cli(shop_root, f"http://127.0.0.1:{port}/index.php?nomodule=1")
    print("\n" + done.stdout)
    assert done.returncode == 1
    problems = [line.split()[1:3] for line in done.stdout.splitlines() if "PROBLEM" in line]
    assert problems == [["module", "PrestaShop"], ["bridge", "via"], ["mail", "cannot"]]
    assert "psonlinechat prestashop-module --out ." in done.stdout
    assert "nginx-proxy.conf" in done.stdout and "location ^~" in done.stdout
    assert "3 problems to fix" in done.stdout


def test_a_proxy_that_drops_the_upgrade(folder, docroot, bridge, fpm, shop_root, registered):
    """The recipe without its Upgrade/Connection lines: pages work, sockets cannot open."""
    port = free_port()
    proxy = "\n".join(line for line in recipe("nginx-proxy.conf", bridge.port).splitlines()
                      if "Upgrade" not in line and "$psonlinechat_connection" not in line)
    site = f"""server {{
    listen 127.0.0.1:{port};
    root {docroot};
    index index.php;
{proxy}
    location ~ \\.php$ {{
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass 127.0.0.1:{fpm.port};
    }}
}}"""
    with webservers.nginx(folder / "noupgrade", site, port):
        findings = doctor.diagnose({"PSONLINECHAT_PRESTASHOP_ROOT": str(shop_root),
                                    "PSONLINECHAT_SECRET_KEY": "doctor"},
                                   f"http://127.0.0.1:{port}/index.php", timeout=3)
    print("\n" + findings.report(f"http://127.0.0.1:{port}/index.php"))
    [problem] = [item for item in findings.problems if item.check != "mail"]
    assert problem.check == "websocket" and "upgrade did not pass" in problem.detail
    assert "proxy_http_version 1.1" in problem.fix
    assert statuses(findings)["bridge via proxy"] == OK


def test_an_unreadable_parameters_php(tmp_path):
    findings = doctor.diagnose({"PSONLINECHAT_PRESTASHOP_ROOT": str(tmp_path)},
                               "http://127.0.0.1:1/", timeout=1)
    assert statuses(findings)["parameters.php"] == PROBLEM
    assert "sudo -u www-data" in findings.problems[0].fix
    assert "database" not in statuses(findings), "no database check without settings"


def test_the_shop_url_must_be_an_address():
    with pytest.raises(ValueError, match="--shop-url must be the shop's address"):
        doctor.diagnose({}, "shop.example")
