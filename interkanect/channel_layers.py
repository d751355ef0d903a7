"""Channel layers: Redis with messages between consumers of one process kept in memory, and a faster in-memory one.

channels-redis sends every message through Redis, even when sender and receiver live in the same
process: four Redis round trips to send, one more to receive, and the process's one shared Redis list
counts against the channel capacity. nginx sends both members of a room to the same daphne process
(deploy/nginx.conf hashes the room's URL), so almost all of a call's frames stay in one process; with
this layer Redis carries only what crosses processes.

Order is kept per sender: a channel is either this process's (every message to it goes in memory,
from the moment its name exists) or another's (every message goes through Redis), never both.
"""

from __future__ import annotations

import asyncio
import time
from copy import deepcopy

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

SWEEP_SECONDS = 1.0


class SweepingInMemoryChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer (one process, development and tests), sweeping out expired messages at most
    once a second: Channels sweeps on every receive, going through every channel, so each relayed frame cost
    time in proportion to the number of connected sockets."""

    _swept_at = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            super()._clean_expired()


class LocalFirstRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # This process's channels that are still received: name -> its inbox, fed in memory by send()
        # and by a pump from Redis (for messages from other processes).
        self._inboxes: dict[str, asyncio.Queue] = {}
        self._pumps: dict[str, asyncio.Task] = {}

    async def new_channel(self, prefix: str = "specific") -> str:
        channel = await super().new_channel(prefix)
        # Before anyone can learn the name, so no message to it ever goes the other way.
        self._inboxes[channel] = asyncio.Queue()  # bounded in send(); Redis bounds what the pump brings
        return channel

    async def send(self, channel: str, message: dict) -> None:
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
        if channel not in self._pumps:
            self._pumps[channel] = asyncio.create_task(self._pump(channel, inbox))
        try:
            message = await inbox.get()
        except asyncio.CancelledError:
            # Channels cancels a consumer's receive when the consumer ends: forget the channel, so later
            # messages to it go to Redis and expire there instead of piling up here.
            self._forget(channel)
            raise
        if isinstance(message, Exception):
            # Redis failed under the pump: the consumer sees it, as it would without this layer.
            self._forget(channel)
            raise message
        return message

    async def _pump(self, channel: str, inbox: asyncio.Queue) -> None:
        """Messages from other processes: from Redis into the inbox, in the order Redis gives them."""
        try:
            while True:
                inbox.put_nowait(await super().receive(channel))
        except Exception as error:
            inbox.put_nowait(error)

    async def flush(self) -> None:
        """Tests' reset: also stop receiving from Redis for this process's channels."""
        for channel in list(self._inboxes):
            self._forget(channel)
        await super().flush()

    def _forget(self, channel: str) -> None:
        self._inboxes.pop(channel, None)
        pump = self._pumps.pop(channel, None)
        if pump is not None:
            pump.cancel()
