"""The deployment under test: a stand-in PHP shop with the module, the bridge under
``psonlinechat serve``, and private nginx + php-fpm and Apache + mod_php instances built from
the recipes in docs/deploy/.

Everything lives in one folder made readable by the servers' users (Apache's children run
as www-data), removed at the end. Each proxy serves two ports: ``module`` (the PHP module
prints the fragments) and ``inject`` (the recipe for shops without the module: sub_filter +
SSI, SUBSTITUTE + INCLUDES, on the page requested with ``?nomodule=1``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import tempfile
import urllib.request
import zipfile

import pytest

from psonlinechat.deploy import module_zip
from psonlinechat.shop import installer
from tests.support import webservers
from tests.support.served import ServedShop, ServeProcess, free_port

HERE = pathlib.Path(__file__).parent
REPO = HERE.parents[1]
RECIPES = REPO / "docs" / "deploy"
PROBE_ENTRY_POINTS = "[psonlinechat]\ndeploy_probe = tests.deploy.probe_plugin\n"


@dataclasses.dataclass
class Site:
    """One proxy in front of the stand-in shop."""

    name: str
    module_port: int
    inject_port: int
    docroot: pathlib.Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.module_port}"

    @property
    def inject_url(self) -> str:
        return f"http://127.0.0.1:{self.inject_port}"

    def log_lines(self) -> list[str]:
        return (self.docroot / "log" / "prestashop.log").read_text().splitlines()


def recipe(name: str, bridge_port: int, docroot: pathlib.Path | None = None) -> str:
    """A recipe of docs/deploy/ with the bridge's port (and the shop's folder) put in."""
    text = (RECIPES / name).read_text().replace("127.0.0.1:8000", f"127.0.0.1:{bridge_port}")
    return text.replace("/var/www/shop", str(docroot)) if docroot else text


def make_folder() -> pathlib.Path:
    """A new folder under /tmp that the servers' users may read."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="psoc-deploy-", dir="/tmp"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def folder():
    webservers.require(webservers.PHP, webservers.PHP_FPM, webservers.NGINX, webservers.APACHE)
    path = make_folder()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def build_docroot(folder: pathlib.Path) -> pathlib.Path:
    """The stand-in shop in ``folder/shop``: pages, stubs, and the module from its zip."""
    root = folder / "shop"
    shutil.copytree(HERE / "php" / "shop", root)
    shutil.copy(HERE / "php" / "stubs.php", root / "stubs.php")
    archive = module_zip.write_zip(folder / "zip")
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(root / "modules")
    (root / "log").mkdir()
    (root / "log").chmod(0o777)
    (root / "log" / "prestashop.log").touch()
    (root / "log" / "prestashop.log").chmod(0o666)
    for path in [root, *root.rglob("*")]:
        if path.is_dir() and path.name != "log":
            path.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def docroot(folder) -> pathlib.Path:
    return build_docroot(folder)


def point_module_at(docroot: pathlib.Path, name: str, bridge_url: str) -> None:
    """Write config-<name>.json: the module's settings for pages asked with ?bridge=<name>."""
    target = docroot / f"config-{name}.json"
    target.write_text(json.dumps({"PSOC_BRIDGE_URL": bridge_url,
                                  "PSOC_BRIDGE_PREFIX": "/psonlinechat"}))
    target.chmod(0o644)


@pytest.fixture(scope="module")
def deploy_shop(ps_db) -> ServedShop:
    installer.install(ps_db.engine, ps_db.tables)
    return ServedShop.create(ps_db)


def bridge_env(folder: pathlib.Path, shop: ServedShop, **extra: str) -> dict[str, str]:
    """``serve``'s environment: the shop, and the probe plugin on the path."""
    dist = folder / "plugins" / "psoc_deploy_probe-1.0.dist-info"
    if not dist.exists():
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: psoc-deploy-probe\n"
                                       "Version: 1.0\n")
        (dist / "entry_points.txt").write_text(PROBE_ENTRY_POINTS)
    path = os.pathsep.join([str(folder / "plugins"), str(REPO)])
    return shop.env(PYTHONPATH=path, **extra)


def warm(server: ServeProcess) -> None:
    """One fragment request: a worker's first request builds the app, which may take longer
    than the module's 0.8 s."""
    with urllib.request.urlopen(f"{server.http}/psonlinechat/hook/displayFooter", timeout=30):
        pass


@pytest.fixture(scope="module")
def bridge(folder, docroot, deploy_shop):
    """``psonlinechat serve`` on a free port, the module's main settings pointing at it."""
    server = ServeProcess([], bridge_env(folder, deploy_shop))
    try:
        with server:
            warm(server)
            point_module_at(docroot, "main", server.http)
            yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def fpm(folder):
    with webservers.php_fpm(folder) as daemon:
        yield daemon


def nginx_site(folder: pathlib.Path, docroot: pathlib.Path, bridge_port: int,
               fpm_port: int) -> tuple[webservers.Daemon, Site]:
    site = Site("nginx", free_port(), free_port(), docroot)
    php = f"""
    location ~ \\.php$ {{
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass 127.0.0.1:{fpm_port};
      %s
    }}"""
    servers = []
    for port, inject in ((site.module_port, ""),
                         (site.inject_port, recipe("nginx-inject.conf", bridge_port))):
        servers.append(f"""server {{
    listen 127.0.0.1:{port};
    root {docroot};
    index index.php;
{recipe("nginx-proxy.conf", bridge_port)}
{php % inject}
}}""")
    user = "user root root;\n" if os.geteuid() == 0 else ""
    block = recipe("nginx-http.conf", bridge_port) + "\n" + "\n".join(servers)
    return webservers.nginx(folder / "nginx", block, site.module_port, user), site


def apache_site(folder: pathlib.Path, docroot: pathlib.Path,
                bridge_port: int) -> tuple[webservers.Daemon, Site]:
    site = Site("apache", free_port(), free_port(), docroot)
    vhosts = []
    for port, inject in ((site.module_port, ""),
                         (site.inject_port, recipe("apache-inject.conf", bridge_port, docroot))):
        vhosts.append(f"""Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
  DocumentRoot {docroot}
{recipe("apache-proxy.conf", bridge_port)}
{inject}
</VirtualHost>""")
    body = f"""{webservers.apache_user()}
DirectoryIndex index.php
<FilesMatch "\\.php$">
  SetHandler application/x-httpd-php
</FilesMatch>
<Directory {docroot}>
  Require all granted
</Directory>
""" + "\n".join(vhosts)
    return webservers.apache(folder / "apache", body, site.module_port), site


@pytest.fixture(scope="module", params=["nginx", "apache"])
def site(request, folder, docroot, bridge, fpm) -> Site:
    """The shop behind nginx + php-fpm, then behind Apache + mod_php."""
    if request.param == "nginx":
        daemon, built = nginx_site(folder, docroot, bridge.port, fpm.port)
    else:
        daemon, built = apache_site(folder, docroot, bridge.port)
    with daemon:
        yield built
