"""The embedded demo shop: SQLite, a storefront and a back office, mail to an outbox folder.

``create_app(data_folder)`` makes the app; ``psonlinechat demo`` serves it.
"""

from psonlinechat.demo.app import create_app

__all__ = ["create_app"]
