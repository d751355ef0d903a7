"""Channel layers: Redis with messages between consumers of one process kept in memory, and a faster in-memory one.

channels-redis sends every message through Redis, even when sender and receiver live in the same
process: four Redis round trips to send, one more to receive, and the process's one shared Redis list
counts against the channel capacity. nginx sends both members of a room to the same daphne process
(deploy/nginx.conf hashes the room's URL), so almost all of a call's frames stay in one process; with
this layer Redis carries only what crosses processes. (The room's consumers already hand events to a
connection of their own process over in memory, signaling/consumers.py; this layer does the same for any
consumer, and reads Redis with one task per process.)

Order is kept per sender: a channel is either this process's (every message to it goes in memory,
from the moment its name exists) or another's (every message goes through Redis), never both.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from copy import deepcopy

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

SWEEP_SECONDS = 1.0
logger = logging.getLogger(__name__)

# A consumer that takes its messages as they are sent (see Attachable): called in the sender's task, or the
# Redis reader's, so it must not wait long; it raises ChannelFull when it cannot take more.
Handler = Callable[[dict], Awaitable[None]]


class Attachable:
    """A consumer of this process may attach a handler to its channel instead of receiving: every message is
    then handed to it as it is sent, with no queue and no task of its own waiting on one (the room's
    consumers do, see signaling/consumers.py: a queue and a waiting task cost each connection about 4 KB).
    Attach before the channel's name is given to anyone; detach when the consumer ends (later messages to
    the channel then go where they would without a handler)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._handlers: dict[str, Handler] = {}

    def attach(self, channel: str, handler: Handler) -> None:
        self._handlers[channel] = handler

    def detach(self, channel: str) -> None:
        self._handlers.pop(channel, None)

    async def _hand_over(self, channel: str, message: dict) -> bool:
        """Give the message to the channel's handler, if it has one (in its own copy, as a queue would)."""
        handler = self._handlers.get(channel)
        if handler is None:
            return False
        assert isinstance(message, dict), "message is not a dict"
        await handler(deepcopy(message))
        return True

    async def flush(self) -> None:
        self._handlers.clear()
        await super().flush()


class SweepingInMemoryChannelLayer(Attachable, InMemoryChannelLayer):
    """Channels' in-memory layer (one process, development and tests), sweeping out expired messages at most
    once a second: Channels sweeps on every receive, going through every channel, so each relayed frame cost
    time in proportion to the number of connected sockets."""

    _swept_at = 0.0

    async def send(self, channel: str, message: dict) -> None:
        if await self._hand_over(channel, message):
            return
        # Swept here too: an attached channel is never received, so receive() alone would never sweep what
        # is sent to channels nobody reads (a member's connection that has ended).
        self._clean_expired()
        await super().send(channel, message)

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            super()._clean_expired()


class LocalFirstRedisChannelLayer(Attachable, RedisChannelLayer):
    """channels-redis's layer, with messages between this process's own channels kept in memory, and one
    reader per process for the rest.

    channels-redis reads a process's messages from one Redis list, one waiting receive() per consumer
    taking turns under a lock (two new tasks per message). Here one task per process and event loop
    reads that list and hands each message to its channel's inbox; a consumer's receive() only waits on
    its inbox. A consumer that ends stops nothing in Redis (cancelling a blocking Redis read half way
    could leave it running, and a test's event loop waiting for it at teardown).
    A consumer that attaches a handler (Attachable) gets its messages from other processes from that reader
    too, and has no inbox.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # This process's channels that are still received: name -> its inbox, fed in memory by send()
        # and by the reader (messages from other processes).
        self._inboxes: dict[str, asyncio.Queue] = {}
        self._reader: asyncio.Task | None = None

    async def new_channel(self, prefix: str = "specific") -> str:
        channel = await super().new_channel(prefix)
        # Before anyone can learn the name, so no message to it ever goes the other way.
        self._inboxes[channel] = asyncio.Queue()  # bounded in send() and by the reader
        return channel

    def attach(self, channel: str, handler: Handler) -> None:
        super().attach(channel, handler)
        self._inboxes.pop(channel, None)  # the handler takes this process's messages to it instead
        self._start_reader()  # and those from other processes

    async def send(self, channel: str, message: dict) -> None:
        if await self._hand_over(channel, message):
            return
        inbox = self._inboxes.get(channel)
        if inbox is None:
            await super().send(channel, message)
            return
        assert isinstance(message, dict), "message is not a dict"
        if inbox.qsize() >= self.get_capacity(channel):
            raise ChannelFull()
        inbox.put_nowait(deepcopy(message))  # the receiver gets its own copy, as through Redis

    async def receive(self, channel: str) -> dict:
        inbox = self._inboxes.get(channel)
        if inbox is None:
            return await super().receive(channel)
        self._start_reader()
        try:
            return await inbox.get()
        except asyncio.CancelledError:
            # Channels cancels a consumer's receive when the consumer ends: forget the channel, so later
            # messages to it are dropped by the reader, or go to Redis and expire there.
            self._inboxes.pop(channel, None)
            raise

    def _start_reader(self) -> None:
        loop = asyncio.get_running_loop()
        if self._reader is None or self._reader.done() or self._reader.get_loop() is not loop:
            self._reader = loop.create_task(self._read_from_redis(), name="channel layer: reading from Redis")

    async def _read_from_redis(self) -> None:
        """Messages from other processes, from this process's Redis list to the inboxes and attached handlers,
        in Redis's order.

        Redis failing does not end any consumer: calls within this process go on, and the reader tries
        again every second (messages sent meanwhile wait in Redis until they expire)."""
        process_list = self.non_local_name(await super().new_channel())
        failing = False
        while True:
            try:
                channel, message = await self.receive_single(process_list)
            except Exception:
                if not failing:
                    logger.warning("Reading messages from other processes in Redis failed; retrying.", exc_info=True)
                failing = True
                await asyncio.sleep(1)
                continue
            failing = False
            handler = self._handlers.get(channel)
            if handler is not None:
                try:
                    await handler(message)
                except ChannelFull:
                    logger.warning("A consumer cannot take more messages (it is stuck): a message is dropped.")
                except Exception:
                    logger.exception("A consumer's handler failed on a message from another process.")
                continue
            inbox = self._inboxes.get(channel)
            if inbox is None:
                continue  # its consumer has ended
            if inbox.qsize() >= self.get_capacity(channel):
                logger.warning("A channel's inbox is full (its consumer is stuck): a message is dropped.")
                continue
            inbox.put_nowait(message)

    async def _brpop_with_clean(self, index, channel, timeout):
        """channels-redis's one blocking read (at most brpop_timeout, 5 s), refused to a task asked to stop.

        A cancellation can be lost inside redis-py's read (seen on Python 3.11: the task stays "cancelling"
        and channels-redis's receive_single reads again, for ever, so a test's event loop waited on it at
        teardown). Honoured here, before each read, the reader ends within one blocking wait."""
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError()
        return await super()._brpop_with_clean(index, channel, timeout)

    async def flush(self) -> None:
        """Tests' reset: forget this process's channels and stop reading from Redis."""
        self._inboxes.clear()
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done() and reader.get_loop() is asyncio.get_running_loop():
            reader.cancel()
            await asyncio.wait([reader], timeout=self.brpop_timeout + 1)
        await super().flush()
