"""The app's settings with a chosen channels-redis layer, for relay_load.py's comparison.

    export BENCH_CHANNEL_LAYER=core|pubsub|local DJANGO_SETTINGS_MODULE=benchmarks.layer_settings
    daphne interkanect.asgi:application

core: RedisChannelLayer (every message through Redis, even within one process); pubsub: RedisPubSubChannelLayer;
local: the app's own (interkanect/channel_layers.py). All with a Redis read timeout of 15 s: redis-py 8 gives up
on a read after 5 s, as long as channels-redis's blocking wait, which drops idle sockets at random (the
rel-signal branch sets this timeout in the app's settings).
"""

import os

from interkanect.settings import *  # noqa: F403
from interkanect.settings import CHANNEL_LAYERS, REDIS_URL

BACKENDS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "local": "interkanect.channel_layers.LocalFirstRedisChannelLayer",
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": BACKENDS[os.environ.get("BENCH_CHANNEL_LAYER", "local")],
        "CONFIG": {**CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
    }
}
