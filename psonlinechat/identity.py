"""Who is there: the visitor of a storefront request and the employee of a back-office one.

The default sources read the shop's own cookies (see :mod:`psonlinechat.prestashop.cookies`).
A host app plugs another source of identity through the seam on :class:`~psonlinechat.OnlineChat`.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Visitor:
    """A storefront visitor: a signed-in customer, or anonymous.

    :param id_shop: the shop the request is for.
    :param id_lang: the visitor's language.
    :param id_customer: the signed-in customer, ``None`` when anonymous.
    :param id_guest: the shop cookie's ``id_guest``, when it has one.
    """

    id_shop: int
    id_lang: int
    id_customer: int | None = None
    id_guest: int | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.id_customer is not None


@dataclasses.dataclass(frozen=True)
class Employee:
    """A back-office employee whose session the shop vouches for."""

    id_employee: int
    firstname: str
    lastname: str
    email: str
    id_lang: int
    id_profile: int
