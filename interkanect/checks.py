"""Project-wide deploy checks of our own (shared cache and channel layer), next to Django's `check --deploy`."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections


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


@checks.register(checks.Tags.security, checks.Tags.database, deploy=True)
def database_role_not_superuser(app_configs, databases=None, **kwargs):
    # The database triggers (append-only ledger, locked usernames and activations) hold only against a
    # role that cannot switch them off: a PostgreSQL superuser can (ALTER TABLE ... DISABLE TRIGGER,
    # session_replication_role = replica). `check --deploy` asks the database; `check --database` too.
    warnings = []
    for alias in databases if databases is not None else connections:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
        except DatabaseError:
            continue  # not reachable from here (an image build): nothing to say about its role
        if row and row[1]:
            warnings.append(
                checks.Warning(
                    f"The database role {row[0]!r} (database {alias!r}) is a PostgreSQL superuser, which can "
                    "disable the triggers that keep the ledger append-only and usernames locked.",
                    hint="Connect as a role that owns the app's tables but is not a superuser (see README).",
                    id="interkanect.W003",
                )
            )
    return warnings


@checks.register(checks.Tags.security, deploy=True)
def client_address_behind_proxy(app_configs, **kwargs):
    # Behind the proxy REMOTE_ADDR is the proxy's: every per-address limit would count all visitors as one.
    if getattr(settings, "BEHIND_TLS_PROXY", False) and not (
        settings.ALLAUTH_TRUSTED_PROXY_COUNT or settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER
    ):
        return [
            checks.Warning(
                "DJANGO_BEHIND_TLS_PROXY is set but not how to find the client's address, so the login and "
                "sign-up limits per address count every visitor as the proxy: one attacker can lock all logins.",
                hint="Set DJANGO_TRUSTED_PROXY_COUNT (proxies of yours in front of daphne, usually 1) or "
                "DJANGO_TRUSTED_CLIENT_IP_HEADER (e.g. X-Real-IP) to a header your proxy overwrites.",
                id="interkanect.W004",
            )
        ]
    return []
