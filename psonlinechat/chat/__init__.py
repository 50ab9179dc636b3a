"""The real-time core, Flask-free: conversations, operators, the transaction context with its
after-commit queue, the publisher, the wire protocol, resume tokens and the brokers."""
