"""The channel layers: Redis keeping messages between consumers of one process in memory (real Redis), in-memory."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from channels.exceptions import ChannelFull

from interkanect.channel_layers import LocalFirstRedisChannelLayer, SweepingInMemoryChannelLayer

REDIS_URL = os.environ.get("REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: runs in the PostgreSQL + Redis suite.")


async def test_in_memory_messages_still_expire():
    layer = SweepingInMemoryChannelLayer(expiry=1)
    stale, fresh = await layer.new_channel(), await layer.new_channel()
    await layer.send(stale, {"type": "room.relay", "text": "old"})
    await asyncio.sleep(2.1)  # past the expiry and the next sweep
    await layer.send(fresh, {"type": "room.relay", "text": "new"})
    assert (await layer.receive(fresh))["text"] == "new"  # this receive swept
    assert stale not in layer.channels


def make_layer(prefix: str, **config) -> LocalFirstRedisChannelLayer:
    """One layer is one server process."""
    return LocalFirstRedisChannelLayer(hosts=[REDIS_URL], prefix=prefix, **config)


def redis_keys(layer: LocalFirstRedisChannelLayer) -> list:
    import redis

    return redis.Redis.from_url(REDIS_URL).keys(f"{layer.prefix}*")


@pytest.fixture
def prefix():
    return f"test-layer-{uuid.uuid4().hex[:8]}"


@needs_redis
async def test_a_message_within_one_process_never_reaches_redis_and_keeps_its_order(prefix):
    layer = make_layer(prefix)
    receiver = await layer.new_channel()
    for n in range(100):
        await layer.send(receiver, {"type": "room.relay", "n": n})
    assert redis_keys(layer) == []
    assert [(await layer.receive(receiver))["n"] for _ in range(100)] == list(range(100))
    await layer.flush()


@needs_redis
async def test_the_receiver_gets_its_own_copy(prefix):
    layer = make_layer(prefix)
    receiver = await layer.new_channel()
    message = {"type": "room.relay", "candidate": {"sdpMid": "0"}}
    await layer.send(receiver, message)
    message["candidate"]["sdpMid"] = "changed after sending"
    assert (await layer.receive(receiver))["candidate"] == {"sdpMid": "0"}
    await layer.flush()


@needs_redis
async def test_a_full_channel_refuses_instead_of_growing(prefix):
    layer = make_layer(prefix, capacity=3)
    receiver = await layer.new_channel()
    for n in range(3):
        await layer.send(receiver, {"type": "room.relay", "n": n})
    with pytest.raises(ChannelFull):
        await layer.send(receiver, {"type": "room.relay", "n": 3})
    await layer.flush()


@needs_redis
async def test_messages_between_processes_go_through_redis(prefix):
    here, there = make_layer(prefix), make_layer(prefix)
    receiver = await there.new_channel()
    waiting = asyncio.ensure_future(there.receive(receiver))
    await here.send(receiver, {"type": "room.relay", "text": "hello"})
    assert (await asyncio.wait_for(waiting, 5))["text"] == "hello"
    # Both ways at once, for the same channel: the local and the Redis message both arrive.
    await there.send(receiver, {"type": "room.relay", "text": "local"})
    await here.send(receiver, {"type": "room.relay", "text": "remote"})
    texts = {(await asyncio.wait_for(there.receive(receiver), 5))["text"] for _ in range(2)}
    assert texts == {"local", "remote"}
    await there.flush()
    await here.flush()


@needs_redis
async def test_a_channel_whose_consumer_ended_is_forgotten_and_its_late_messages_dropped(prefix):
    here, there = make_layer(prefix), make_layer(prefix)
    receiver, other = await there.new_channel(), await there.new_channel()
    waiting = asyncio.ensure_future(there.receive(receiver))
    await asyncio.sleep(0.05)
    waiting.cancel()  # what Channels does when the consumer ends
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert receiver not in there._inboxes
    # A late message from another process is read and dropped; the process's other channels still get theirs.
    await here.send(receiver, {"type": "room.relay", "text": "too late"})
    await here.send(other, {"type": "room.relay", "text": "on time"})
    assert (await asyncio.wait_for(there.receive(other), 5))["text"] == "on time"
    assert receiver not in there._inboxes
    await there.flush()
    await here.flush()


@needs_redis
async def test_flush_stops_the_reader_at_once(prefix):
    """The process's one Redis reader ends when asked, even in the middle of a blocking read (a test's
    event loop waits for every task at teardown)."""
    layer = make_layer(prefix)
    receiver = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(receiver))
    await asyncio.sleep(0.2)  # the reader is now blocked in Redis
    reader = layer._reader
    started = asyncio.get_running_loop().time()
    await layer.flush()
    assert reader.done() and asyncio.get_running_loop().time() - started < 2
    waiting.cancel()


async def test_with_redis_unreachable_messages_within_the_process_still_arrive(caplog):
    """Redis failing for a while ends no consumer: calls within one process go on, and the reader retries."""
    layer = LocalFirstRedisChannelLayer(hosts=["redis://127.0.0.1:9"], prefix="unreachable")  # nothing listens
    receiver = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(receiver))
    await asyncio.sleep(1.5)  # the reader has failed at least once
    await layer.send(receiver, {"type": "room.relay", "text": "still here"})
    assert (await asyncio.wait_for(waiting, 2))["text"] == "still here"
    assert "retrying" in caplog.text
    layer._reader.cancel()


@needs_redis
async def test_a_reader_whose_cancellation_was_lost_still_stops(prefix):
    """redis-py can lose a cancellation mid-read (the task stays "cancelling"); the next read refuses."""
    layer = make_layer(prefix)
    process_list = layer.non_local_name(await layer.new_channel())

    async def lost_cancellation_then_read():
        asyncio.current_task().cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass  # swallowed, as inside redis-py: the task is still "cancelling"
        await layer.receive_single(process_list)

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(lost_cancellation_then_read(), timeout=layer.brpop_timeout + 3)
    await layer.flush()


class Handler:
    """What a room connection attaches to its channel: takes messages as they come, until it is full."""

    def __init__(self, capacity: int = 1000) -> None:
        self.messages: list[dict] = []
        self.capacity = capacity
        self.arrived = asyncio.Event()

    async def __call__(self, message: dict) -> None:
        if len(self.messages) >= self.capacity:
            raise ChannelFull()
        self.messages.append(message)
        self.arrived.set()


async def test_in_memory_an_attached_channel_gets_its_messages_at_once_in_order_and_none_after_detach():
    layer = SweepingInMemoryChannelLayer()
    receiver = await layer.new_channel()
    handler = Handler()
    layer.attach(receiver, handler)
    message = {"type": "room.relay", "n": 0, "candidate": {"sdpMid": "0"}}
    await layer.send(receiver, message)
    message["candidate"]["sdpMid"] = "changed after sending"
    for n in range(1, 50):
        await layer.send(receiver, {"type": "room.relay", "n": n})
    assert [m["n"] for m in handler.messages] == list(range(50))  # handed over by send itself, no receive
    assert handler.messages[0]["candidate"] == {"sdpMid": "0"}  # its own copy
    assert receiver not in layer.channels  # no queue kept for it
    layer.detach(receiver)
    await layer.send(receiver, {"type": "room.relay", "n": 50})
    assert len(handler.messages) == 50


@needs_redis
async def test_an_attached_channel_gets_messages_from_its_own_and_other_processes(prefix):
    here, there = make_layer(prefix), make_layer(prefix)
    receiver = await there.new_channel()
    handler = Handler()
    there.attach(receiver, handler)
    await there.send(receiver, {"type": "room.relay", "text": "local"})
    assert [m["text"] for m in handler.messages] == ["local"]  # at once, in the sender's task
    assert redis_keys(there) == []
    await here.send(receiver, {"type": "room.relay", "text": "remote"})  # read by the process's reader
    await asyncio.wait_for(_until(lambda: len(handler.messages) == 2), 5)
    assert handler.messages[1]["text"] == "remote"
    await there.flush()
    await here.flush()


@needs_redis
async def test_a_full_or_detached_handler_drops_messages_from_other_processes_and_the_reader_goes_on(prefix, caplog):
    here, there = make_layer(prefix), make_layer(prefix)
    stuck, ended, other = await there.new_channel(), await there.new_channel(), await there.new_channel()
    stuck_handler, ended_handler, other_handler = Handler(capacity=1), Handler(), Handler()
    there.attach(stuck, stuck_handler)
    there.attach(ended, ended_handler)
    there.attach(other, other_handler)
    there.detach(ended)
    with pytest.raises(ChannelFull):  # within the process, the sender learns it
        for n in range(2):
            await there.send(stuck, {"type": "room.relay", "n": n})
    await here.send(stuck, {"type": "room.relay", "n": 2})
    await here.send(ended, {"type": "room.relay", "n": 3})
    await here.send(other, {"type": "room.relay", "n": 4})
    await asyncio.wait_for(other_handler.arrived.wait(), 5)
    assert [m["n"] for m in stuck_handler.messages] == [0]
    assert ended_handler.messages == []
    assert [m["n"] for m in other_handler.messages] == [4]
    assert "cannot take more messages" in caplog.text
    await there.flush()
    await here.flush()


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.02)
