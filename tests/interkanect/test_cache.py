"""The Redis cache under ASGI: one Redis client per process, however many requests and room connections use it."""

from __future__ import annotations

import asyncio
import contextvars
import os

import pytest
from channels.db import database_sync_to_async

from signaling.limits import join_refusal

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: runs in the PostgreSQL + Redis suite.")


def join_counting_connections() -> int:
    """Redis connections whose last command was one of the join count's (INCRBY, then MGET of the previous
    window): the cache's, not the channel layer's or anyone else's on this Redis server."""
    import redis

    return sum(1 for client in redis.Redis.from_url(REDIS_URL).client_list() if client.get("cmd") in ("incrby", "mget"))


@pytest.mark.django_db(transaction=True)
async def test_room_connections_counting_their_joins_share_one_redis_connection():
    """Django keeps a cache object per async context: each room connection (a task of its own) used to open
    a Redis connection pool and a connection of its own, kept for as long as it stayed."""
    release = asyncio.Event()

    async def connection(n: int) -> None:  # what a room consumer does on joining, then it stays
        assert await database_sync_to_async(join_refusal)(user_id=n, address=f"192.0.2.{n}") == ""
        await release.wait()

    before = join_counting_connections()
    # Each in a context of its own, as daphne starts them (this test's context has used the cache already).
    members = [asyncio.create_task(connection(n), context=contextvars.Context()) for n in range(1, 21)]
    await asyncio.sleep(0.5)
    try:
        assert all(not task.done() for task in members)
        assert join_counting_connections() - before <= 1  # the process's one pool, one connection at a time
    finally:
        release.set()
        await asyncio.gather(*members)
