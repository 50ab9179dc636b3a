"""Rate limits: the sliding log in memory and in a real Redis (shared by every instance on
one namespace, as by every worker), and Redis going away and coming back."""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import subprocess
import time

import pytest
import redis

from psonlinechat.store import rate_limits
from psonlinechat.store.rate_limits import MemoryRateLimit, RedisRateLimit, rate_limit
from tests.mail.conftest import Clock
from tests.support.served import free_port
from tests.support.services import unavailable


def sliding(limit) -> None:
    """``limit`` allows 2 per 60 s per key, and its clock is a :class:`Clock`."""
    clock = limit.clock
    assert [limit.hit("a"), limit.hit("a")] == [0, 0]
    assert limit.hit("a") == pytest.approx(60)
    assert limit.hit("b") == 0  # another key
    clock.advance(59)
    assert limit.hit("a") == pytest.approx(1)  # refused hits are not counted
    clock.advance(1)
    assert [limit.hit("a"), limit.hit("a")] == [0, 0]  # both old hits left the window
    assert limit.hit("a") == pytest.approx(60)


def test_in_memory_the_window_slides():
    sliding(MemoryRateLimit(2, 60, clock=Clock()))


def test_in_memory_old_keys_are_forgotten(monkeypatch):
    monkeypatch.setattr(rate_limits, "MEMORY_KEYS", 3)
    clock = Clock()
    limit = MemoryRateLimit(1, 10, clock=clock)
    for key in "abcd":
        limit.hit(key)
    clock.advance(10)
    limit.hit("e")
    assert set(limit._hits) == {"e"}


@pytest.fixture
def namespace(redis_url):
    name = f"psonlinechat-test:{secrets.token_hex(4)}:"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(name + "*"):
        client.delete(key)
    client.close()


def redis_limit(url, namespace, clock, limit=2, window=60):
    made = rate_limit(url, namespace, limit, window)
    made.clock = clock
    return made


def test_in_redis_the_window_slides_and_keys_expire(redis_url, namespace):
    limit = redis_limit(redis_url, namespace, Clock())
    assert isinstance(limit, RedisRateLimit)
    sliding(limit)
    ttl = limit.client.pttl(namespace + "a")
    assert 0 < ttl <= 60_000
    limit.close()


def test_in_redis_every_instance_shares_the_count(redis_url, namespace):
    """Two instances (two workers) on one namespace count together; another namespace
    (another shop) apart."""
    clock = Clock()
    first, second = (redis_limit(redis_url, namespace, clock, limit=3) for _ in range(2))
    other = redis_limit(redis_url, namespace + "other:", clock, limit=3)
    assert [first.hit("ip"), second.hit("ip"), first.hit("ip")] == [0, 0, 0]
    assert second.hit("ip") > 0 and first.hit("ip") > 0
    assert other.hit("ip") == 0
    for made in (first, second, other):
        made.close()


def test_without_redis_each_process_counts_its_own():
    first, second = (rate_limit(None, "ignored:", 1, 60) for _ in range(2))
    assert isinstance(first, MemoryRateLimit)
    assert [first.hit("ip"), second.hit("ip")] == [0, 0] and first.hit("ip") > 0


def test_redis_out_of_reach_counts_here_and_says_so_once(caplog):
    limit = rate_limit(f"redis://127.0.0.1:{free_port()}/0", "x:", 2, 60)
    with caplog.at_level(logging.INFO, logger=rate_limits.__name__):
        answers = [limit.hit("ip") for _ in range(4)]
    assert answers[:2] == [0, 0] and all(wait > 0 for wait in answers[2:])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "out of reach" in warnings[0].getMessage()
    limit.close()


@contextlib.contextmanager
def redis_server(port):
    """A throwaway redis-server on 127.0.0.1:``port`` while in ``with``."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("the private redis-server did not start")
        yield
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def test_redis_going_away_and_coming_back(caplog):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    limit, other = rate_limit(url, "x:", 2, 60), rate_limit(url, "x:", 2, 60)
    with redis_server(port):
        assert limit.hit("ip") == 0 and other.hit("ip") == 0 and limit.hit("ip") > 0
    with caplog.at_level(logging.INFO, logger=rate_limits.__name__):
        assert [limit.hit("ip"), limit.hit("ip")] == [0, 0]  # counted here while away
        assert limit.hit("ip") > 0
        with redis_server(port):  # a new, empty Redis
            assert other.hit("ip") == 0 and limit.hit("ip") == 0
            assert limit.hit("ip") > 0 and other.hit("ip") > 0  # shared again
    messages = [r.getMessage() for r in caplog.records]
    assert sum("out of reach" in m for m in messages) == 1
    assert sum("shared again" in m for m in messages) == 1
    limit.close()
    other.close()
