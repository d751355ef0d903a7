"""Join limits: how often one member, and one client address, may open a room's WebSocket.

Each join costs a row lock and a few queries; a page reconnects with backoff (at most a few joins a minute),
so a member or an address far above that is a loop or a script, refused with a reason before the room is
touched (only the session is read, to know the member).
Counts live in the cache (Redis, shared by every process, when REDIS_URL is set), one per window of
SIGNALING_JOIN_WINDOW_SECONDS. A join is judged on a sliding-window estimate: this window's count plus the
share of the previous one's still inside the last window (fixed windows alone forgot every join at each
boundary, so a loop crossing one got its limit again at once). Only joins let in are counted: refused ones
cost the database nothing, and counting them would keep a loop, and everyone behind its address (an
office's NAT, a proxy), out for as long as the loop runs. An address is kept only as a keyed hash: the
signaling path stores no IP address.
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


def join_refusal(*, user_id: int | None, address: str, now: float | None = None) -> str:
    """Why this join is refused (shown to the person, and the close reason), or "" to let it in: it is then counted."""
    window = settings.SIGNALING_JOIN_WINDOW_SECONDS
    window_number, into = divmod(time.time() if now is None else now, window)
    previous_weight = 1 - into / window  # how much of the previous window is still within the last `window` seconds
    checks = [(f"address:{_address_key(address)}", settings.SIGNALING_JOINS_PER_ADDRESS)]
    if user_id is not None:
        checks.insert(0, (f"member:{user_id}", settings.SIGNALING_JOINS_PER_MEMBER))
    current = {key: f"signaling:joins:{key}:{int(window_number)}" for key, _ in checks}
    previous = {key: f"signaling:joins:{key}:{int(window_number) - 1}" for key, _ in checks}
    try:
        counts = cache.get_many([*current.values(), *previous.values()])
        for key, limit in checks:
            if counts.get(current[key], 0) + counts.get(previous[key], 0) * previous_weight + 1 > limit:
                return "Too many reconnections in a short time. The page tries again in a minute."
        for name in current.values():
            cache.add(name, 0, timeout=window * 2)
            cache.incr(name)
    except Exception:  # the cache (Redis) is down for a moment: a limit must not keep people out of their call
        logger.warning("Join limits are not counted: the cache failed.", exc_info=True)
    return ""
