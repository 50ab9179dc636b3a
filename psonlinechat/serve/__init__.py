"""Serving: ``psonlinechat serve`` under gunicorn, the worker's set-up, the socket cap and the
bare WSGI app."""
