"""``psonlinechat serve``: the bridge under gunicorn, fit for thousands of sockets.

The command embeds gunicorn (``BaseApplication``); it never shells out. It

- validates the ``PSONLINECHAT_*`` settings in the master, as the extension does, before
  any worker starts;
- refuses more than one worker without ``PSONLINECHAT_REDIS_URL``: each worker would only
  see its own sockets and messages between workers would be lost;
- caps the WebSockets one worker holds (``--worker-connections`` with gevent, ``--threads``
  with gthread) with :class:`~psonlinechat.serve.socket_limit.SocketLimit`, which answers ``503``
  before the upgrade, and
  gives gunicorn some headroom above that cap so that the refusal itself, and ordinary
  HTTP requests, always find a greenlet or a thread (without it the connection waits
  unanswered in the listen queue);
- raises the open-files limit the cap needs, or refuses to start when the hard limit is
  too low;
- builds the app in each worker after gevent's monkey-patching (no ``preload_app``),
  checks that nothing imported earlier kept a reference to a blocking original, then
  freezes what start-up allocated (``gc.freeze()``) and raises the collector's thresholds
  so that full collections stay short (see :mod:`psonlinechat.serve.worker`).
"""

from __future__ import annotations

import dataclasses
import resource
from collections.abc import Mapping
from typing import Any

import click

from psonlinechat import config as config_module
from psonlinechat.config import Settings
from psonlinechat.errors import ConfigError, ServeError
from psonlinechat.serve.socket_limit import SocketLimit
from psonlinechat.serve.worker import build_wsgi, post_worker_init, worker_exit

DEFAULT_BIND = "127.0.0.1:8000"
WORKER_CLASSES = ("gevent", "gthread")
DEFAULT_WORKER_CLASS = "gevent"
#: WebSockets one gevent worker holds (measured: 2,000 sockets in about 150 MB).
DEFAULT_WORKER_CONNECTIONS = 2000
#: WebSockets one gthread worker holds: one thread each, plus simple-websocket's reader.
DEFAULT_THREADS = 200
#: Seconds a stopping worker waits for its sockets; clients resume from their last event.
DEFAULT_GRACEFUL_TIMEOUT = 10
#: File descriptors a worker needs beyond its sockets (database pool, Redis, logs, pipes).
SPARE_FDS = 128


def headroom(limit: int) -> int:
    """Greenlets or threads gunicorn gets beyond ``limit`` sockets, to refuse and to serve HTTP."""
    return max(16, limit // 10)


@dataclasses.dataclass(frozen=True)
class ServeOptions:
    """What ``psonlinechat serve`` was asked for.

    :param socket_limit: WebSockets one worker holds; the next one is refused with 503.
    """

    bind: str = DEFAULT_BIND
    workers: int = 1
    worker_class: str = DEFAULT_WORKER_CLASS
    worker_connections: int = DEFAULT_WORKER_CONNECTIONS
    threads: int = DEFAULT_THREADS
    graceful_timeout: int = DEFAULT_GRACEFUL_TIMEOUT
    access_log: bool = False

    @property
    def socket_limit(self) -> int:
        return self.worker_connections if self.worker_class == "gevent" else self.threads

    def gunicorn_settings(self) -> dict[str, Any]:
        """The gunicorn settings these options stand for (hooks excluded)."""
        spare = headroom(self.socket_limit)
        options: dict[str, Any] = {
            "bind": [part.strip() for part in self.bind.split(",") if part.strip()],
            "workers": self.workers,
            "worker_class": self.worker_class,
            "graceful_timeout": self.graceful_timeout,
            "preload_app": False,
            "errorlog": "-",
            "accesslog": "-" if self.access_log else None,
            "loglevel": "info",
            "proc_name": "psonlinechat",
        }
        if self.worker_class == "gevent":
            options["worker_connections"] = self.worker_connections + spare
        else:
            options["threads"] = self.threads + spare
            options["worker_connections"] = 2 * (self.threads + spare)
        return options

    def fds_needed(self) -> int:
        """Open files one worker may need at its socket cap.

        gthread sockets each hold a second descriptor: the epoll selector of their reader.
        """
        per_socket = 1 if self.worker_class == "gevent" else 2
        return per_socket * (self.socket_limit + headroom(self.socket_limit)) + SPARE_FDS


def check_options(options: ServeOptions, settings: Settings) -> None:
    """Refuse what would lose messages or hang connections.

    :raises ServeError: an unknown worker class, a count below 1, or more than one
        worker without ``PSONLINECHAT_REDIS_URL``.
    :raises ConfigError: nothing can sign visitors' resume tokens (see
        :meth:`~psonlinechat.config.Settings.token_secret`).
    """
    settings.token_secret()
    if options.worker_class not in WORKER_CLASSES:
        raise ServeError(f"--worker-class must be one of {', '.join(WORKER_CLASSES)}, "
                         f"not {options.worker_class!r}")
    for name, value in (("--workers", options.workers),
                        ("--worker-connections", options.worker_connections),
                        ("--threads", options.threads)):
        if value < 1:
            raise ServeError(f"{name} must be at least 1, not {value}")
    if not options.bind.strip():
        raise ServeError("--bind must name at least one address, e.g. 127.0.0.1:8000")
    if options.workers > 1 and not settings.redis_url:
        raise ServeError(
            f"--workers {options.workers} needs PSONLINECHAT_REDIS_URL: without a shared "
            "broker each worker only sees its own sockets, and messages between workers "
            "are lost. Set PSONLINECHAT_REDIS_URL (or --redis-url), or run --workers 1."
        )


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft open-files limit to at least ``needed``; return it.

    Workers inherit it from the master.

    :raises ServeError: the hard limit is below ``needed``.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ServeError(
            f"a worker may need {needed} open files but the hard limit is {hard}: raise it "
            "(ulimit -Hn, LimitNOFILE= in a systemd unit) or lower --worker-connections/--threads"
        )
    target = needed if hard == resource.RLIM_INFINITY else max(needed, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def _gunicorn_application(config: Mapping[str, Any], options: ServeOptions):
    from gunicorn.app.base import BaseApplication

    class ChatServer(BaseApplication):
        """gunicorn embedded: settings from :class:`ServeOptions`, app built per worker."""

        def load_config(self) -> None:
            settings = dict(options.gunicorn_settings(), post_worker_init=post_worker_init,
                            worker_exit=worker_exit)
            # gunicorn 25.1+ opens a control socket at one shared path by default, which
            # two servers on one machine would fight over.
            if "control_socket_disable" in self.cfg.settings:
                settings["control_socket_disable"] = True
            for name, value in settings.items():
                if value is not None:
                    self.cfg.set(name, value)

        def load(self) -> SocketLimit:
            return build_wsgi(config, options.socket_limit)

    return ChatServer(prog="psonlinechat serve")


def serve(config: Mapping[str, Any], options: ServeOptions) -> None:
    """Run the bridge under gunicorn until it is stopped (SIGINT or SIGTERM).

    :raises ConfigError: a setting is missing or malformed.
    :raises ServeError: the options would lose messages, or the open-files limit is too low.
    """
    settings = config_module.from_mapping(config)  # as OnlineChat.init_app will
    check_options(options, settings)
    raise_fd_limit(options.fds_needed())
    _gunicorn_application(config, options).run()


@click.command("serve")
@click.option("--bind", default=DEFAULT_BIND, show_default=True,
              help="HOST:PORT (or unix:PATH) to listen on; comma-separate several.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Worker processes; one per core. More than one needs PSONLINECHAT_REDIS_URL.")
@click.option("--worker-class", type=click.Choice(WORKER_CLASSES), default=DEFAULT_WORKER_CLASS,
              show_default=True, help="gevent (greenlets, chosen by measurement) or gthread.")
@click.option("--worker-connections", type=int, default=DEFAULT_WORKER_CONNECTIONS,
              show_default=True, help="gevent: WebSockets one worker holds; the next gets 503.")
@click.option("--threads", type=int, default=DEFAULT_THREADS, show_default=True,
              help="gthread: WebSockets (threads) one worker holds; the next gets 503.")
@click.option("--graceful-timeout", type=int, default=DEFAULT_GRACEFUL_TIMEOUT,
              show_default=True, help="Seconds a stopping worker waits for its sockets.")
@click.option("--access-log", is_flag=True, help="Log every request on stderr.")
@click.option("--database-url", default=None, help="Overrides PSONLINECHAT_DATABASE_URL.")
@click.option("--prestashop-root", default=None, help="Overrides PSONLINECHAT_PRESTASHOP_ROOT.")
@click.option("--redis-url", default=None, help="Overrides PSONLINECHAT_REDIS_URL.")
def serve_command(bind: str, workers: int, worker_class: str, worker_connections: int,
                  threads: int, graceful_timeout: int, access_log: bool,
                  database_url: str | None, prestashop_root: str | None,
                  redis_url: str | None) -> None:
    """Serve the chat under gunicorn, configured from PSONLINECHAT_* environment variables."""

    config = config_module.from_environ(database_url=database_url,
                                        prestashop_root=prestashop_root, redis_url=redis_url)
    options = ServeOptions(bind=bind, workers=workers, worker_class=worker_class,
                           worker_connections=worker_connections, threads=threads,
                           graceful_timeout=graceful_timeout, access_log=access_log)
    try:
        serve(config, options)
    except (ConfigError, ServeError) as exc:
        raise click.ClickException(str(exc)) from None
