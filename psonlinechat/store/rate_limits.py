"""Rate limits: at most ``limit`` hits per key in any ``window`` seconds (a sliding log).

:class:`MemoryRateLimit` counts in this process: a chat socket's frames and messages, or
the offline form's posts per address when there is no Redis. :class:`RedisRateLimit`
counts in Redis, so that every worker and host sharing it share the count (the offline
form's per-address limit when ``PSONLINECHAT_REDIS_URL`` is set); while Redis is out of
reach it counts in this process instead, and says so once in the log. Both answer
:meth:`RateLimit.hit` alike; :func:`rate_limit` chooses one.

Both use only threading primitives made at run time (and redis-py's sockets), so they run
under threads and under gevent's monkey-patching alike.
"""

from __future__ import annotations

import collections
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: Keys a :class:`MemoryRateLimit` holds before it forgets those whose hits are all old.
MEMORY_KEYS = 10_000
#: Seconds redis-py may take to connect or answer before the hit is counted locally.
REDIS_TIMEOUT = 1.0

# KEYS[1]: the sorted set of one key's hits (score: time). ARGV: now, window, limit, member.
# Drops the hits out of the window; with room, adds this one and answers "0"; else answers
# the seconds until the oldest hit leaves the window. One script: atomic in Redis.
_SLIDING_LOG = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class RateLimit(Protocol):
    """At most :attr:`limit` hits per key in any :attr:`window` seconds."""

    limit: int
    window: float

    def hit(self, key: str = "") -> float:
        """Count one hit for ``key``: ``0`` when it is allowed (and counted), else the
        seconds until one would be (a refused hit is not counted)."""


class MemoryRateLimit:
    """A sliding log per key, in this process.

    :param clock: monotonic seconds (tests move it).
    """

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str = "") -> float:
        """See :meth:`RateLimit.hit`."""
        now = self.clock()
        with self._lock:
            if len(self._hits) > MEMORY_KEYS:
                self._forget(now)
            hits = self._hits.setdefault(key, collections.deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0

    def _forget(self, now: float) -> None:
        stale = [key for key, hits in self._hits.items()
                 if not hits or hits[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]


class RedisRateLimit:
    """A sliding log per key in Redis (a sorted set ``<namespace><key>`` that expires with
    the window), shared by every process using the same Redis and namespace.

    :param client: a ``redis.Redis`` (see :func:`rate_limit`).
    :param namespace: prefix of the Redis keys (one per limit and shop database).
    :param clock: Unix time, alike on every host (tests move it).
    """

    def __init__(self, client: Any, namespace: str, limit: int, window: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.namespace = namespace
        self.client = client
        self._script = client.register_script(_SLIDING_LOG)
        self.local = MemoryRateLimit(limit, window)
        self._away = False

    def hit(self, key: str = "") -> float:
        """See :meth:`RateLimit.hit`; counted in this process while Redis is out of reach."""
        import redis

        now = self.clock()
        member = f"{now!r}:{secrets.token_hex(6)}"
        try:
            answer = self._script(keys=[self.namespace + key],
                                  args=[repr(now), repr(self.window), self.limit, member])
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                OSError) as exc:
            if not self._away:
                self._away = True
                log.warning("psonlinechat: Redis is out of reach (%s): rate limits count in "
                            "each process until it is back", exc)
            return self.local.hit(key)
        if self._away:
            self._away = False
            log.info("psonlinechat: Redis is back: rate limits are shared again")
        return max(0.0, float(answer))

    def close(self) -> None:
        """Release the client's connections."""
        self.client.close()


def rate_limit(redis_url: str | None, namespace: str, limit: int, window: float) -> RateLimit:
    """A :class:`RedisRateLimit` when ``redis_url`` is set, else a :class:`MemoryRateLimit`.
    Nothing connects before the first hit."""
    if not redis_url:
        return MemoryRateLimit(limit, window)
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT,
                                  socket_connect_timeout=REDIS_TIMEOUT)
    return RedisRateLimit(client, namespace, limit, window)
