"""The default ``identify_employee`` plugin: the shop's ``psAdmin`` cookie.

Registered through the ``psonlinechat`` entry-point group like any other plugin, and
``trylast``, so that a host's or a third party's plugin is asked first.
"""

from __future__ import annotations

from psonlinechat.hookspecs import hookimpl
from psonlinechat.shop import identity
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Employee
from psonlinechat.shop.request_facts import RequestFacts


@hookimpl(trylast=True)
def identify_employee(request: RequestFacts, shop: ShopDatabase) -> Employee | None:
    """The employee the ``psAdmin`` cookie vouches for, or ``None``
    (:func:`psonlinechat.shop.identity.identify_employee`).

    :raises ShopError: the database is unreachable.
    """
    return identity.identify_employee(shop, request)
