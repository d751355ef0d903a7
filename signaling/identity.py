"""Who is connecting, from a WebSocket's ASGI scope: the client's address and the Django session's key.

The room's socket reads them itself (no Channels auth middleware): the session is resolved in the same
database call as the admission (signaling/services.py room_enter), and nothing wraps the connection's
every send to save a session it never changes.
"""

from __future__ import annotations

from django.conf import settings
from django.http.cookie import parse_cookie


def client_address(scope: dict) -> str:
    """The connecting client's address, as the login limits see it (the same trusted-proxy settings).

    Behind the proxy: the header it sets (ALLAUTH_TRUSTED_CLIENT_IP_HEADER), or the entry in X-Forwarded-For
    that the trusted proxies (ALLAUTH_TRUSTED_PROXY_COUNT) appended. Without them, the socket's peer address,
    since the headers are then anyone's to forge.
    """
    headers = dict(scope.get("headers") or [])
    header = getattr(settings, "ALLAUTH_TRUSTED_CLIENT_IP_HEADER", None)
    if header:
        value = headers.get(header.lower().encode("latin-1"), b"").decode("latin-1").strip()
        if value:
            return value
    proxies = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0) or 0
    if proxies:
        forwarded = [part.strip() for part in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    client = scope.get("client") or ("", 0)
    return str(client[0])


def session_key(scope: dict) -> str | None:
    """The session cookie's value, or None."""
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
    return None
