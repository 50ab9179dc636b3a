"""A real HTTP server for a Flask app, in a thread, on 127.0.0.1 and a free port.

Usage::

    with LiveServer(app) as server:
        urllib.request.urlopen(server.url + "/")

The Werkzeug server is threaded (one thread per connection, as the demo and flask-sock
need), binds port 0 so that tests never collide, and is shut down and closed on exit,
so that no socket or thread outlives the test.
"""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server


class LiveServer:
    """Serve ``app`` on ``host`` (default 127.0.0.1) and a port the system picks.

    :param app: any WSGI application, usually a Flask app.
    :param host: the address to bind; only loopback addresses belong in tests.
    """

    def __init__(self, app, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: the server is not running.
        """
        if self._server is None:
            raise RuntimeError("the live server is not running")
        return self._server.server_port

    @property
    def url(self) -> str:
        """``http://host:port`` with no trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        """Bind and serve in a daemon thread; returns self.

        :raises RuntimeError: already started.
        :raises OSError: the address cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("the live server is already running")
        self._server = make_server(self.host, 0, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"liveserver-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and join the thread (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
