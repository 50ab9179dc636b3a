"""The brokers: in-process fan-out, and Redis pub/sub between two brokers (two processes)."""

from __future__ import annotations

import queue
import threading

from psonlinechat.chat.broker import InMemoryBroker, RedisBroker, from_settings, namespace_for


def test_in_memory_delivers_to_the_channel_subscribers_only():
    broker = InMemoryBroker()
    got_a, got_b = [], []
    sub_a = broker.subscribe("conversation:1", got_a.append)
    broker.subscribe("conversation:2", got_b.append)
    broker.publish("conversation:1", {"type": "message", "seq": 1})
    assert got_a == [{"type": "message", "seq": 1}] and got_b == []
    sub_a.cancel()
    sub_a.cancel()  # idempotent
    broker.publish("conversation:1", {"type": "message", "seq": 2})
    assert got_a == [{"type": "message", "seq": 1}]
    assert broker.subscriber_count("conversation:1") == 0
    broker.close()


def test_a_failing_subscriber_does_not_starve_the_others(caplog):
    broker = InMemoryBroker()
    got = []

    def broken(event):
        raise RuntimeError("socket gone")

    broker.subscribe("shop:1", broken)
    broker.subscribe("shop:1", got.append)
    broker.publish("shop:1", {"type": "typing"})
    assert got == [{"type": "typing"}]
    assert "a subscriber of shop:1 failed" in caplog.text


def test_in_memory_is_safe_under_concurrent_subscribe_and_publish():
    broker = InMemoryBroker()
    got = queue.Queue()
    broker.subscribe("c", got.put)

    def churn():
        for _ in range(200):
            broker.subscribe("c", lambda e: None).cancel()

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(200):
        broker.publish("c", {"seq": i})
    for thread in threads:
        thread.join()
    assert [got.get_nowait()["seq"] for _ in range(200)] == list(range(200))


def test_redis_carries_events_between_two_brokers(redis_url):
    namespace = namespace_for("mysql://test/one", "ps_")
    one, two = RedisBroker(redis_url, namespace), RedisBroker(redis_url, namespace)
    other_shop = RedisBroker(redis_url, namespace_for("mysql://test/two", "ps_"))
    try:
        received, stray = queue.Queue(), queue.Queue()
        two.subscribe("conversation:7", received.put)
        other_shop.subscribe("conversation:7", stray.put)
        one.subscribe("conversation:7", lambda e: None)
        # The pattern subscription is live once a probe makes the round trip.
        probe = queue.Queue()
        two.subscribe("probe", probe.put)
        for _ in range(50):
            one.publish("probe", {"type": "probe"})
            try:
                probe.get(timeout=0.1)
                break
            except queue.Empty:
                continue
        for seq in (1, 2, 3):
            one.publish("conversation:7", {"type": "message", "seq": seq, "body": "é"})
        got = [received.get(timeout=5) for _ in range(3)]
        assert [e["seq"] for e in got] == [1, 2, 3] and got[0]["body"] == "é"
        assert stray.empty()  # another shop's namespace hears nothing
    finally:
        for broker in (one, two, other_shop):
            broker.close()


def test_from_settings_picks_the_broker(redis_url):
    assert isinstance(from_settings(None, "mysql://x/y", "ps_"), InMemoryBroker)
    broker = from_settings(redis_url, "mysql://x/y", "ps_")
    try:
        assert isinstance(broker, RedisBroker)
        assert broker.namespace == namespace_for("mysql://x/y", "ps_")
    finally:
        broker.close()
