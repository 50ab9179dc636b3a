"""The WebSocket edge: the routes, the visitor's and the operator's sockets, the frame loop
they share and the per-socket outbox."""
