"""The Flask edge: the only layer importing flask, werkzeug, flask_sock or simple_websocket.

The extension and its per-app state, the blueprint, access checks, the plugin manager, the
sockets and the ``flask psonlinechat`` commands.
"""
