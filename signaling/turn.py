"""ICE servers for a browser: STUN URLs and short-lived TURN credentials (TURN REST API, coturn use-auth-secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from django.conf import settings


def turn_credential(*, secret: str, ttl_seconds: int, now: float | None = None) -> tuple[str, str]:
    """(username, credential): the username carries its expiry time; the credential is its HMAC under the secret.

    The TURN server recomputes the HMAC with the same secret and refuses the username once its time has
    passed, so nothing needs to be stored and a leaked credential is useless after ttl_seconds.
    """
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    # A random tag instead of a user id: the TURN server's logs learn nothing about who called.
    username = f"{expires}:{secrets.token_hex(4)}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers() -> list[dict]:
    """The RTCPeerConnection `iceServers` for one connection, with fresh TURN credentials."""
    servers: list[dict] = []
    if settings.ICE_STUN_URLS:
        servers.append({"urls": list(settings.ICE_STUN_URLS)})
    if settings.ICE_TURN_URLS:
        username, credential = turn_credential(
            secret=settings.ICE_TURN_SECRET, ttl_seconds=settings.ICE_TURN_CREDENTIAL_TTL_SECONDS
        )
        servers.append({"urls": list(settings.ICE_TURN_URLS), "username": username, "credential": credential})
    return servers
