"""Fan-out of chat events to the sockets that follow a channel.

A channel is a name (see :func:`conversation_channel`, :func:`shop_channel`); an event is
a JSON-able dict. :class:`InMemoryBroker` serves one process; :class:`RedisBroker` joins
several processes or hosts through Redis pub/sub with one listener thread per process.

Delivery is at most once: an event published while a process was cut off from Redis is
lost to it. The database is the log, so sockets recover what they missed from it (see
:class:`psonlinechat.web.sockets.outbox.Outbox`). Both brokers use only threading
primitives, so they run under threads and under gevent's monkey-patching alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Callback = Callable[[dict[str, Any]], None]


def conversation_channel(id_conversation: int) -> str:
    """Where a conversation's events reach its visitor."""
    return f"conversation:{id_conversation}"


def shop_channel(id_shop: int) -> str:
    """Where every conversation event of a shop reaches its operators."""
    return f"shop:{id_shop}"


def visitors_channel(id_shop: int) -> str:
    """Where the shop's visitors learn that the availability changed."""
    return f"visitors:{id_shop}"


class Subscription:
    """A callback registered on a channel; :meth:`cancel` removes it (idempotent)."""

    def __init__(self, broker: _LocalRegistry, channel: str, callback: Callback) -> None:
        self.channel = channel
        self.callback = callback
        self._broker = broker

    def cancel(self) -> None:
        self._broker._remove(self)


class Broker(Protocol):
    """Publish/subscribe per channel."""

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Send ``event`` to every subscriber of ``channel``, in every process."""

    def subscribe(self, channel: str, callback: Callback) -> Subscription:
        """Call ``callback(event)`` for each event published on ``channel`` from now on."""

    def close(self) -> None:
        """Stop delivering and release connections and threads."""


class _LocalRegistry:
    """The subscribers of this process, and delivery to them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[Subscription]] = {}

    def subscribe(self, channel: str, callback: Callback) -> Subscription:
        subscription = Subscription(self, channel, callback)
        with self._lock:
            self._subscribers.setdefault(channel, []).append(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            subscribers = self._subscribers.get(subscription.channel, [])
            if subscription in subscribers:
                subscribers.remove(subscription)
            if not subscribers:
                self._subscribers.pop(subscription.channel, None)

    def subscriber_count(self, channel: str) -> int:
        """How many local callbacks follow ``channel``."""
        with self._lock:
            return len(self._subscribers.get(channel, ()))

    def _deliver(self, channel: str, event: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for subscription in subscribers:
            try:
                subscription.callback(event)
            except Exception:  # one broken socket must not starve the others
                log.exception("a subscriber of %s failed", channel)


class InMemoryBroker(_LocalRegistry):
    """Fan-out inside one process: callbacks run in the publisher's thread."""

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        self._deliver(channel, event)

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()


class RedisBroker(_LocalRegistry):
    """Fan-out across processes through Redis pub/sub.

    One pattern subscription (``<namespace>*``) and one listener thread per process;
    events are JSON. The listener reconnects by itself after Redis restarts.

    :param url: the Redis URL (``redis://host:6379/0``).
    :param namespace: prefix of the Redis channels, so that several shops share a Redis.
    """

    def __init__(self, url: str, namespace: str = "psonlinechat:") -> None:
        import redis

        super().__init__()
        self.namespace = namespace
        self._redis = redis.Redis.from_url(url, health_check_interval=30)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.psubscribe(namespace + "*")
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="psonlinechat-redis",
                                        daemon=True)
        self._thread.start()

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Publish to Redis; local subscribers receive it back through the listener.

        :raises redis.exceptions.ConnectionError: Redis cannot be reached.
        """
        self._redis.publish(self.namespace + channel, json.dumps(event, separators=(",", ":")))

    def _listen(self) -> None:
        import redis

        while not self._stopped.is_set():
            try:
                message = self._pubsub.get_message(timeout=0.5)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError,
                    ValueError):
                if self._stopped.wait(0.5):
                    break
                continue
            if message is None or message.get("type") != "pmessage":
                continue
            channel = message["channel"].decode()[len(self.namespace):]
            try:
                event = json.loads(message["data"])
            except ValueError:
                log.warning("ignored a malformed event on %s", channel)
                continue
            self._deliver(channel, event)

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._pubsub.close()
        self._redis.close()


def namespace_for(database_url: str, table_prefix: str) -> str:
    """A Redis channel prefix proper to one shop database and table prefix."""
    digest = hashlib.sha256(f"{database_url}|{table_prefix}".encode()).hexdigest()[:12]
    return f"psonlinechat:{digest}:"


def from_settings(redis_url: str | None, database_url: str, table_prefix: str) -> Broker:
    """A :class:`RedisBroker` when ``redis_url`` is set, else an :class:`InMemoryBroker`."""
    if redis_url:
        return RedisBroker(redis_url, namespace_for(database_url, table_prefix))
    return InMemoryBroker()
