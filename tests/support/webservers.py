"""Private instances of Debian's nginx, Apache 2.4 and php-fpm for the deployment tests.

Each runs in the foreground from its own configuration in a temporary folder, on a free
port of 127.0.0.1, never touching the system's sites or ports 80/443; the test stops it
(SIGTERM to the process it started, then SIGKILL). :func:`require` makes a test fail in CI
(skip on a laptop) when a server is not installed (``.ci/test`` installs them).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

from tests.support.served import free_port
from tests.support.services import unavailable

PHP_FPM = "/usr/sbin/php-fpm8.2"
NGINX = "/usr/sbin/nginx"
APACHE = "/usr/sbin/apache2"
APACHE_MODULES = pathlib.Path("/usr/lib/apache2/modules")
PHP = shutil.which("php") or "/usr/bin/php"


def require(*programs: str) -> None:
    """Fail (CI) or skip unless every program exists and PHP has cURL."""
    missing = [path for path in programs if not os.access(path, os.X_OK)]
    if missing:
        unavailable(f"not installed: {', '.join(missing)} (apt-get install nginx php8.2-fpm "
                    "php8.2-cli php8.2-curl apache2 libapache2-mod-php8.2)")


def wait_port(port: int, process: subprocess.Popen, log: pathlib.Path, timeout: float = 15) -> None:
    """Wait until ``port`` accepts connections.

    :raises AssertionError: the process exited, or nothing listened in time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.3):
            return
        time.sleep(0.05)
    raise AssertionError(f"{process.args[0]} never listened on {port}:\n{log.read_text()}")


class Daemon:
    """One server process in the foreground, its output in ``<folder>/<name>.out``."""

    def __init__(self, name: str, args: list[str], folder: pathlib.Path, port: int,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.args, self.folder, self.port = name, args, folder, port
        self.env = env
        self.log = folder / f"{name}.out"
        self.process: subprocess.Popen | None = None

    def start(self) -> Daemon:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT,
                                            env=self.env, start_new_session=True)
        wait_port(self.port, self.process, self.log)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> Daemon:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def php_fpm(folder: pathlib.Path) -> Daemon:
    """php-fpm listening on a free TCP port, one static pool of 4 workers."""
    port = free_port()
    conf = folder / "php-fpm.conf"
    conf.write_text(f"""[global]
pid = {folder}/php-fpm.pid
error_log = {folder}/php-fpm.log
daemonize = no
[shop]
listen = 127.0.0.1:{port}
pm = static
pm.max_children = 4
catch_workers_output = yes
php_admin_value[error_log] = {folder}/php-errors.log
php_admin_flag[log_errors] = on
""")
    args = [PHP_FPM, "-F", "-y", str(conf)] + (["-R"] if os.geteuid() == 0 else [])
    return Daemon("php-fpm", args, folder, port)


def nginx(folder: pathlib.Path, http_block: str, port: int, user: str = "") -> Daemon:
    """nginx with ``http_block`` (its servers, one listening on ``port``) in its own prefix
    folder; ``user`` is a ``user`` directive or nothing."""
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    conf = folder / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log info;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types;
  access_log {folder}/logs/access.log;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
{http_block}
}}
""")
    return Daemon("nginx", [NGINX, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
                  folder, port)


#: Apache's modules for the tests: prefork + mod_php, the proxy, and the injection filters.
APACHE_MODULES_LOADED = ("mpm_prefork", "authz_core", "mime", "dir", "proxy", "proxy_http",
                         "headers", "filter", "substitute", "include")


def apache_user() -> str:
    """The User/Group lines: Apache started as root serves as www-data."""
    return "User www-data\nGroup www-data" if os.geteuid() == 0 else ""


def apache(folder: pathlib.Path, body: str, port: int) -> Daemon:
    """Apache 2.4 (prefork, as mod_php wants) with :data:`APACHE_MODULES_LOADED` and
    ``body`` (its Listen lines and sites); ``port`` is one it listens on."""
    folder.mkdir(parents=True, exist_ok=True)
    loads = "\n".join(f"LoadModule {name}_module {APACHE_MODULES}/mod_{name}.so"
                      for name in APACHE_MODULES_LOADED)
    conf = folder / "httpd.conf"
    conf.write_text(f"""ServerRoot {folder}
ServerName 127.0.0.1
PidFile {folder}/httpd.pid
ErrorLog {folder}/error.log
LogLevel warn
Mutex file:{folder}
DefaultRuntimeDir {folder}
{loads}
LoadModule php_module {APACHE_MODULES}/libphp8.2.so
TypesConfig /etc/mime.types
StartServers 2
MaxRequestWorkers 16
{body}
""")
    return Daemon("apache", [APACHE, "-f", str(conf), "-DFOREGROUND"], folder, port,
                  env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"})
