"""``psonlinechat serve``: a real gunicorn subprocess on a free port, over a real shop database."""

from __future__ import annotations

import contextlib
import os
import pathlib
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from psonlinechat import installer

pytestmark = pytest.mark.slow

CLI = pathlib.Path(sys.executable).with_name("psonlinechat")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """``psonlinechat serve`` as a subprocess; its output is kept in a temporary file.

    :param args: the options after ``serve`` (``--bind`` is added).
    :param env: ``PSONLINECHAT_*`` variables on top of the current environment.
    """

    def __init__(self, args: list[str], env: dict[str, str], port: int | None = None,
                 preexec_fn=None) -> None:
        self.port = port or free_port()
        self.args = [str(CLI), "serve", "--bind", f"127.0.0.1:{self.port}", *args]
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("PSONLINECHAT_")}
        self.env.update(env)
        self.preexec_fn = preexec_fn
        self.process: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def start(self) -> ServeProcess:
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=self.preexec_fn)
        return self

    def wait_listening(self, timeout: float = 30.0) -> ServeProcess:
        """Wait until the port accepts connections and a worker booted.

        :raises AssertionError: the server exited or never listened.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early:\n{self.output()}"
            if "Booting worker" in self.output():
                with contextlib.suppress(OSError), \
                        socket.create_connection(("127.0.0.1", self.port), 0.5):
                    time.sleep(0.3)  # the worker loads the app after gunicorn says so
                    return self
            time.sleep(0.1)
        raise AssertionError(f"serve never listened on {self.port}:\n{self.output()}")

    def run_to_exit(self, timeout: float = 30.0) -> int:
        self.start()
        return self.process.wait(timeout)

    def stop(self) -> int | None:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode

    def close(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> ServeProcess:
        return self.start().wait_listening()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@pytest.fixture(scope="module")
def installed(ps_db):
    """The ps_ shop with the module installed."""
    installer.install(ps_db.engine, ps_db.tables)
    return ps_db


def shop_env(db, **extra: str) -> dict[str, str]:
    return {"PSONLINECHAT_DATABASE_URL": db.url, "PSONLINECHAT_TABLE_PREFIX": db.prefix, **extra}


# --- refusing to start ---------------------------------------------------------------------------

def test_more_than_one_worker_without_redis_refuses_to_start(installed):
    server = ServeProcess(["--workers", "2"], shop_env(installed))
    try:
        code = server.run_to_exit()
        output = server.output()
    finally:
        server.close()
    assert code != 0
    assert "--workers 2 needs PSONLINECHAT_REDIS_URL" in output
    assert "messages between workers are lost" in output
    assert "Booting worker" not in output


def test_a_missing_database_is_named_before_anything_starts():
    server = ServeProcess([], {})
    try:
        code = server.run_to_exit()
        output = server.output()
    finally:
        server.close()
    assert code != 0
    assert "PSONLINECHAT_DATABASE_URL is required" in output
    assert "Listening at" not in output


@pytest.mark.parametrize("option", ["--workers", "--worker-connections", "--threads"])
def test_counts_below_one_are_refused(installed, option):
    server = ServeProcess([option, "0"], shop_env(installed))
    try:
        code = server.run_to_exit()
        output = server.output()
    finally:
        server.close()
    assert code != 0
    assert f"{option} must be at least 1, not 0" in output


def test_an_open_files_limit_below_the_socket_cap_refuses_to_start(installed):
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    server = ServeProcess(["--worker-connections", "2000"], shop_env(installed),
                          preexec_fn=low_limit)
    try:
        code = server.run_to_exit()
        output = server.output()
    finally:
        server.close()
    assert code != 0
    assert "open files but the hard limit is 256" in output
    assert "lower --worker-connections" in output


# --- a running server ------------------------------------------------------------------------

@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_starts_serves_http_and_stops_cleanly(installed, worker_class):
    server = ServeProcess(["--worker-class", worker_class], shop_env(installed))
    try:
        server.start().wait_listening()
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(server.http + "/psonlinechat/no-such-page", timeout=10)
        status = error.value.code
        error.value.close()
        code = server.stop()
        output = server.output()
    finally:
        server.close()
    assert status == 404  # Flask answered, through gunicorn
    assert f"Using worker: {worker_class}" in output
    assert code == 0
    # Nothing imported before gevent's patching kept a blocking original, and shutting
    # down (with a frozen heap) raised nothing.
    assert "unpatched" not in output
    assert "MonkeyPatchWarning" not in output
    assert "Traceback" not in output and "Exception ignored" not in output
