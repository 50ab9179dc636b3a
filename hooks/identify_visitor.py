"""The default ``identify_visitor`` plugin: the shop's storefront cookie.

Registered through the ``psonlinechat`` entry-point group like any other plugin, and
``trylast``, so that a host's or a third party's plugin is asked first.
"""

from __future__ import annotations

from psonlinechat.hookspecs import hookimpl
from psonlinechat.shop import identity
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Visitor
from psonlinechat.shop.request_facts import RequestFacts


@hookimpl(trylast=True)
def identify_visitor(request: RequestFacts, shop: ShopDatabase) -> Visitor:
    """The visitor the shop's cookie vouches for; an anonymous one otherwise
    (:func:`psonlinechat.shop.identity.identify_visitor`).

    :raises ShopError: the database is unreachable or has no active shop.
    """
    return identity.identify_visitor(shop, request)
