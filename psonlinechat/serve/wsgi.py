"""The bridge as a bare WSGI app, configured from ``PSONLINECHAT_*`` environment variables.

``psonlinechat serve`` (see :mod:`psonlinechat.serve.command`) is the supported way to run it:
it adds the per-worker socket limit and the garbage-collector tuning. This module is for
hosts that insist on their own gunicorn command line::

    PSONLINECHAT_DATABASE_URL=mysql://shop:pw@127.0.0.1/shop \\
        gunicorn -k gevent --worker-connections 1100 'psonlinechat.serve.wsgi:create_app()'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from psonlinechat import config as config_module
from psonlinechat.web.extension import OnlineChat


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A Flask app that serves the bridge alone under ``PSONLINECHAT_URL_PREFIX``.

    :param config: the ``PSONLINECHAT_*`` keys; read from the environment when ``None``.
    :raises ConfigError: a setting is missing or malformed.
    """
    app = Flask("psonlinechat.serve.wsgi")
    app.config.update(config_module.from_environ() if config is None else dict(config))
    OnlineChat(app)
    return app
