"""The shop a request is for, and what reading its cookies needs (FACTS §3.1, §8.10).

PrestaShop resolves the shop on every request: the ``shop_url`` whose ``domain`` or
``domain_ssl`` is the host (first without the port, then with it) and whose
``physical_uri + virtual_uri`` starts the path (longest first, case-insensitively), else
PS_SHOP_DEFAULT. The bridge does the same from a **snapshot** of the active shops, their
URLs and languages (with their iso codes: :meth:`ShopDirectory.language_iso`) and the few
configuration keys identity reads, kept per app by its :class:`ShopDirectory` and read
again once it is older than :data:`SNAPSHOT_SECONDS`. A merchant's change of URLs,
languages, default shop, default language or PS_COOKIE_CHECKIP therefore counts within that
many seconds, and a request costs no query for its shop (it cost five or more). Accounts
and session rows are never cached: a revoked session or password counts at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import sqlalchemy as sa

from psonlinechat.prestashop import cookies
from psonlinechat.prestashop.php import php_int
from psonlinechat.store import configuration, shops
from psonlinechat.store.shops import Shop, ShopUrl
from psonlinechat.store.tables import Tables

#: How old (in seconds) a snapshot of the shops may get before it is read again.
SNAPSHOT_SECONDS = 5.0
#: The configuration keys identity reads, resolved per shop.
CONFIG_KEYS = ("PS_SHOP_DEFAULT", "PS_VERSION_DB", "PS_LANG_DEFAULT", "PS_COOKIE_CHECKIP")
#: The iso code of a language the snapshot does not know (PrestaShop's own source language).
FALLBACK_ISO = "en"


class Database(Protocol):
    """What the directory reads the shops through: a
    :class:`~psonlinechat.shop.database.ShopDatabase`."""

    @property
    def tables(self) -> Tables: ...

    def connect(self) -> contextlib.AbstractContextManager[sa.Connection]: ...


@dataclasses.dataclass(frozen=True)
class ShopContext:
    """What one request needs to know about its shop to read cookies.

    :param hosts: the request host, then the hosts of the shop's URLs (the bridge may run
        on another host than the shop's pages, which named the cookies).
    :param shared_urls: the URLs PrestaShop passes to its storefront cookie (Cookie::getDomain).
    :param languages: the active languages the shop offers.
    """

    shop: Shop
    host: str
    version: str | None
    config: Mapping[str, str]
    hosts: tuple[str, ...]
    shared_urls: tuple[str, ...]
    languages: frozenset[int]

    def cookie_names(self, logical_name: str, shared: bool) -> list[str]:
        """The full cookie names ``logical_name`` may have; none when the version is unknown."""
        if not self.version:
            return []
        domains = dict.fromkeys(cookies.cookie_domain(host, self.shared_urls if shared else ())
                                for host in self.hosts)
        return [cookies.cookie_name(self.version, logical_name, domain) for domain in domains]

    def language(self, id_lang: int) -> int:
        """``id_lang`` when the shop offers it, else PS_LANG_DEFAULT (1 when unset)."""
        if id_lang > 0 and id_lang in self.languages:
            return id_lang
        return php_int(self.config.get("PS_LANG_DEFAULT")) or 1


@dataclasses.dataclass
class Snapshot:
    """The active shops, their URLs and languages (ids per shop, and each one's iso code),
    and global configuration, as read at ``loaded_at``; each shop's own configuration is
    added on first use."""

    shops: dict[int, Shop]
    urls: list[ShopUrl]
    languages: dict[int, frozenset[int]]
    global_config: dict[str, str]
    loaded_at: float
    shop_config: dict[int, dict[str, str]] = dataclasses.field(default_factory=dict)
    #: Each active language's iso code (``id_lang`` → ``"fr"``).
    isos: dict[int, str] = dataclasses.field(default_factory=dict)

    def find_shop_id(self, host: str, uri: str) -> int | None:
        """The shop whose URL serves ``host`` and ``uri`` (Shop::initialize), or ``None``."""
        host = (host or "").strip().lower()
        bare = host if host.startswith("[") else host.split(":", 1)[0]
        path = (uri or "/").lower()
        for candidate in dict.fromkeys(h for h in (bare, host) if h):
            matches = sorted((url for url in self.urls
                              if candidate in (url.domain.lower(), url.domain_ssl.lower())),
                             key=lambda url: (-len(url.uri), url.uri, url.id_shop))
            for url in matches:
                if path.startswith(url.uri.lower()):
                    return url.id_shop
        return None

    def resolve(self, host: str, uri: str) -> Shop | None:
        """The request's shop, else PS_SHOP_DEFAULT, else the lowest active one."""
        for id_shop in (self.find_shop_id(host, uri),
                        php_int(self.global_config.get("PS_SHOP_DEFAULT"))):
            if id_shop in self.shops:
                return self.shops[id_shop]
        return self.shops[min(self.shops)] if self.shops else None

    def shared_urls(self, shop: Shop) -> tuple[str, ...]:
        """What config.inc.php passes to the storefront cookie: for a group sharing orders,
        the ``domain`` of every main active URL of the group's shops
        (Shop::getUrlsSharedCart); otherwise the main URL's ``[domain_ssl, domain]`` when
        they differ, else nothing."""
        if shop.share_order:
            group = {s.id_shop for s in self.shops.values()
                     if s.id_shop_group == shop.id_shop_group}
            return tuple(dict.fromkeys(url.domain for url in self.urls
                                       if url.id_shop in group and url.main and url.active))
        main = next((url for url in self.urls if url.id_shop == shop.id_shop and url.main), None)
        if main is None or main.domain == main.domain_ssl:
            return ()
        return (main.domain_ssl, main.domain)

    def hosts(self, shop: Shop, host: str) -> tuple[str, ...]:
        """``host``, then the shop's own URL hosts (main first)."""
        own = [name for url in self.urls if url.id_shop == shop.id_shop
               for name in (url.domain_ssl, url.domain)]
        return tuple(dict.fromkeys(name for name in [host, *own] if name))


class ShopDirectory:
    """Keeps one app's :class:`Snapshot`, reading it again when older than ``max_age``.

    :param max_age: seconds a snapshot is used for.
    :param clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, max_age: float = SNAPSHOT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age, self.clock = max_age, clock
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self, db: Database) -> Snapshot:
        """The current snapshot, read again when missing or stale.

        :raises ShopError: the database is unreachable.
        """
        current = self._snapshot
        if current is not None and self.clock() - current.loaded_at < self.max_age:
            return current
        with self._lock:
            current = self._snapshot
            if current is None or self.clock() - current.loaded_at >= self.max_age:
                current = self._snapshot = self._load(db)
        return current

    def shop_config(self, db: Database, snapshot: Snapshot, shop: Shop) -> dict[str, str]:
        """:data:`CONFIG_KEYS` for ``shop`` (shop, group, then global), read once per snapshot.

        :raises ShopError: the database is unreachable.
        """
        config = snapshot.shop_config.get(shop.id_shop)
        if config is None:
            with db.connect() as conn:
                config = _plain(configuration.get_many(conn, db.tables, CONFIG_KEYS,
                                                       shop.id_shop, shop.id_shop_group))
            snapshot.shop_config[shop.id_shop] = config
        return config

    def language_iso(self, db: Database, id_lang: int, id_shop: int | None = None) -> str:
        """The iso code of ``id_lang`` when ``id_shop`` offers it (active), else of the
        shop's PS_LANG_DEFAULT, else :data:`FALLBACK_ISO`. ``None`` or an inactive
        ``id_shop`` means the default shop. No query while the snapshot is current.

        :raises ShopError: the database is unreachable.
        """
        snapshot = self.snapshot(db)
        shop = snapshot.shops.get(id_shop) if id_shop is not None else None
        shop = shop or snapshot.resolve("", "")
        if shop is None:
            offered: frozenset[int] = frozenset()
            config: Mapping[str, str] = snapshot.global_config
        else:
            offered = snapshot.languages.get(shop.id_shop, frozenset())
            config = self.shop_config(db, snapshot, shop)
        default = php_int(config.get("PS_LANG_DEFAULT")) or 1
        chosen = id_lang if id_lang in offered else default
        return snapshot.isos.get(chosen) or snapshot.isos.get(default) or FALLBACK_ISO

    def _load(self, db: Database) -> Snapshot:
        t = db.tables
        with db.connect() as conn:
            all_shops, urls = shops.active_shops(conn, t)
            offered: dict[int, set[int]] = {}
            isos: dict[int, str] = {}
            for language in shops.active_languages(conn, t):
                offered.setdefault(language.id_shop, set()).add(language.id_lang)
                isos[language.id_lang] = language.iso_code
            global_config = _plain(configuration.get_many(conn, t, CONFIG_KEYS))
        return Snapshot({shop.id_shop: shop for shop in all_shops}, urls,
                        {id_shop: frozenset(ids) for id_shop, ids in offered.items()},
                        global_config, self.clock(), isos=isos)


def _plain(values: Mapping[str, Any]) -> dict[str, str]:
    return {name: value for name, value in values.items() if isinstance(value, str)}
