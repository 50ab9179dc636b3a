"""One gunicorn worker of ``psonlinechat serve``: the app it serves, its start and its exit.

The app is built in each worker, after gevent's monkey-patching (no ``preload_app``):
:func:`build_wsgi` puts the bridge behind :class:`~psonlinechat.serve.socket_limit.SocketLimit`.
Once the worker is up, :func:`post_worker_init` checks that nothing imported earlier kept a
reference to a blocking original, fits the table definitions to the shop, then freezes
what start-up allocated (``gc.freeze()``) and raises the collector's thresholds so that
full collections stay short; :func:`worker_exit` unfreezes it on the way out.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from collections.abc import Mapping
from typing import Any

from psonlinechat.serve.capacity import CapacityLog
from psonlinechat.serve.socket_limit import SocketLimit

log = logging.getLogger(__name__)

#: Collector thresholds once start-up is frozen (Python's default is 700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 100)

#: Blocking callables gevent replaces; a module holding the original would block a worker.
_PATCHED_NAMES = {
    "socket": ("socket", "create_connection", "getaddrinfo", "socketpair"),
    "time": ("sleep",),
    "select": ("select", "poll"),
    "selectors": ("DefaultSelector",),
    "threading": ("Lock", "RLock", "Thread", "Event", "Condition", "local"),
    "_thread": ("allocate_lock", "start_new_thread"),
    "ssl": ("SSLContext", "SSLSocket"),
}
#: Packages whose module globals are searched for such originals.
#: (werkzeug's routing map and jinja2's caches keep an original ``Lock`` too, but hold it
#: for a few instructions with no I/O, which cannot block another greenlet.)
_WATCHED_PACKAGES = ("psonlinechat", "flask_sock", "simple_websocket", "wsproto",
                     "sqlalchemy", "pymysql", "redis")


def build_wsgi(config: Mapping[str, Any], socket_limit: int) -> SocketLimit:
    """The app one worker serves: the bridge behind :class:`SocketLimit`.

    :raises ConfigError: a setting is missing or malformed.
    """
    from psonlinechat.serve.wsgi import create_app

    flask_app = create_app(config)
    wrapped = SocketLimit(flask_app.wsgi_app, socket_limit)
    wrapped.flask_app = flask_app  # type: ignore[attr-defined]
    return wrapped


def unpatched_references() -> list[str]:
    """``module.name`` globals that still hold a blocking original after monkey-patching.

    Call it in a gevent worker once patched: an empty list means every watched package
    goes through gevent's cooperative versions.
    """
    from gevent import monkey

    originals: dict[int, str] = {}
    for module_name, names in _PATCHED_NAMES.items():
        if not monkey.is_module_patched(module_name):
            continue
        for name in names:
            original = monkey.get_original(module_name, name)
            current = getattr(importlib.import_module(module_name), name, None)
            if original is not None and original is not current:
                originals[id(original)] = f"{module_name}.{name}"
    found = []
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".")[0] not in _WATCHED_PACKAGES:
            continue
        for attribute, value in list(vars(module).items()):
            if id(value) in originals and not isinstance(value, (int, str)):
                found.append(f"{module_name}.{attribute} is the unpatched {originals[id(value)]}")
    return found


def tune_gc() -> None:
    """Freeze what start-up allocated and make full collections rarer and shorter.

    Objects alive now (modules, the app, the table definitions) move to the permanent
    generation, so no later collection walks them again.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _warm_up(app: Any) -> None:
    """Get the app ready before its first request: fit the table definitions to the shop,
    make the chat engine, read the shop's hosts and directory, and start the mail sender,
    whose first round sends the mail a previous process left pending (no request needed).
    So a worker's first page or socket does not pay for any of it (the PrestaShop module
    gives a fragment 0.8 s in all)."""
    from psonlinechat.errors import ShopError
    from psonlinechat.web.extension import get_state

    state = get_state(app)
    try:
        state.tables  # noqa: B018 - the property detects the schema
    except ShopError as exc:
        log.error("psonlinechat: %s (the workers keep trying on each request)", exc)
        return
    try:
        state.chat().shop_hosts()  # what a socket's handshake reads
        state.shop.directory.snapshot(state.shop)  # the shops and languages pages read
    except Exception as exc:  # the database or Redis away: never a reason not to boot
        log.warning("psonlinechat: could not warm up (%s: %s); the first request will",
                    type(exc).__name__, exc)
    state.mail.start()  # waits out a database away by itself


def capacity_log(worker: Any) -> CapacityLog:
    """The worker's capacity log (see :mod:`psonlinechat.serve.capacity`), written to
    gunicorn's log: the sockets its :class:`SocketLimit` holds, its chat's figures."""
    from psonlinechat.web.extension import get_state

    app = worker.wsgi
    state = get_state(getattr(app, "flask_app", app))

    # gunicorn's error log by name: the thread holds no reference to the worker's objects
    write = logging.getLogger("gunicorn.error").info
    return CapacityLog(lambda: getattr(app, "open", 0), lambda: state.chat().capacity(), write)


def post_worker_init(worker: Any) -> None:
    """gunicorn's ``post_worker_init`` hook: check patching, warm up (tables, chat engine,
    mail sender), start the capacity log (every minute and on ``SIGUSR1``), freeze start-up."""
    if worker.cfg.worker_class_str == "gevent":
        for problem in unpatched_references():
            worker.log.warning("psonlinechat: %s; it blocks the whole worker under gevent", problem)
    app = worker.wsgi
    _warm_up(getattr(app, "flask_app", app))
    capacity = worker.psonlinechat_capacity = capacity_log(worker)
    capacity.start()
    capacity.on_signal()
    tune_gc()


def worker_exit(arbiter: Any, worker: Any) -> None:
    """gunicorn's ``worker_exit`` hook: stop the capacity log, unfreeze what
    :func:`tune_gc` froze."""
    capacity = getattr(worker, "psonlinechat_capacity", None)
    if capacity is not None:
        capacity.stop()
    # Frozen objects would otherwise be finalised after gevent's modules are torn down,
    # and logging's handler callbacks would fail noisily on the way out.
    gc.unfreeze()
