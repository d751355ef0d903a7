"""Django's Redis cache, with one Redis client (and so one connection pool) per process.

Django keeps a cache object per async context (its CacheHandler is an asgiref Local), so under ASGI every
HTTP request and every room connection got a RedisCache of its own, with its own connection pool and a
new Redis connection: about 7 KB and a socket per connected room member, for as long as it stayed
(django/django#18459). Here every cache object of the process shares one client; redis-py's pools are
thread-safe.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple, RedisCacheClient] = {}
_clients_lock = threading.Lock()


class SharedClientRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = self._class(self._servers, **self._options)
                # Django makes a client's pools on first use, unlocked: made here, no two threads race to.
                for write in (True, False):
                    client.get_client(write=write)
                _clients[key] = client
        return client
