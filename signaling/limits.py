"""Join limits: how often one member, and one client address, may open a room's WebSocket.

Each join costs a row lock and a few queries; a page reconnects with backoff (at most a few joins a minute),
so a member or an address far above that is a loop or a script, refused with a reason before the room is
touched (only the session is read, to know the member).
Counts live in the cache (Redis, shared by every process, when REDIS_URL is set), in fixed windows. An
address is kept only as a keyed hash: the signaling path stores no IP address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _address_key(address: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()[:24]


def join_refusal(*, user_id: int | None, address: str) -> str:
    """Count this join; "" if it may go ahead, else the reason shown to the person (and the close reason)."""
    window = settings.SIGNALING_JOIN_WINDOW_SECONDS
    bucket = int(time.time() // window)
    checks = [(f"address:{_address_key(address)}", settings.SIGNALING_JOINS_PER_ADDRESS)]
    if user_id is not None:
        checks.insert(0, (f"member:{user_id}", settings.SIGNALING_JOINS_PER_MEMBER))
    for key, limit in checks:
        name = f"signaling:joins:{key}:{bucket}"
        try:
            cache.add(name, 0, timeout=window * 2)
            count = cache.incr(name)
        except Exception:  # the cache (Redis) is down for a moment: a limit must not keep people out of their call
            logger.warning("Join limits are not counted: the cache failed.", exc_info=True)
            return ""
        if count > limit:
            return "Too many reconnections in a short time. The page tries again in a minute."
    return ""
