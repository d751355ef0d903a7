"""Project-wide deploy checks of our own (shared cache and channel layer), next to Django's `check --deploy`."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def shared_cache_in_production(app_configs, **kwargs):
    # allauth's rate limits live in the cache: a per-process cache lets each process count alone.
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("LocMemCache") or backend.endswith("DummyCache"):
        return [
            checks.Warning(
                "The cache is per process, so login rate limits are not shared between processes.",
                hint="Set REDIS_URL so the cache (and the channel layer) live in Redis.",
                id="interkanect.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def shared_channel_layer_in_production(app_configs, **kwargs):
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if backend.endswith("InMemoryChannelLayer"):
        return [
            checks.Warning(
                "The channel layer is in memory: two daphne processes cannot relay one room.",
                hint="Set REDIS_URL to use channels-redis.",
                id="interkanect.W002",
            )
        ]
    return []
