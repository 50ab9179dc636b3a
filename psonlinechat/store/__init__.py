"""Repositories: the only modules that hold SQL.

Each function takes a SQLAlchemy ``Connection`` (and the app's
:class:`~psonlinechat.store.tables.Tables`) first and returns plain values, rows or dataclasses.
"""
