"""The app's settings with one of channels-redis's own layers, for relay_load.py's comparison.

    BENCH_CHANNEL_LAYER=core|pubsub DJANGO_SETTINGS_MODULE=benchmarks.layer_settings daphne interkanect.asgi:application

core: RedisChannelLayer (every message through Redis, even within one process); pubsub: RedisPubSubChannelLayer.
"""

import os

from interkanect.settings import *  # noqa: F403
from interkanect.settings import CHANNEL_LAYERS

BACKENDS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
CHANNEL_LAYERS = {
    "default": {**CHANNEL_LAYERS["default"], "BACKEND": BACKENDS[os.environ.get("BENCH_CHANNEL_LAYER", "core")]}
}
