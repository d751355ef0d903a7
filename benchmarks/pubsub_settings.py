"""The app's settings with channels-redis's pub/sub layer instead of its default one (for relay_load.py's comparison).

DJANGO_SETTINGS_MODULE=benchmarks.pubsub_settings daphne interkanect.asgi:application
"""

from interkanect.settings import *  # noqa: F403
from interkanect.settings import CHANNEL_LAYERS, REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {**CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [REDIS_URL]},
        }
    }
