"""Join limits over a sliding window: a loop that crosses a window boundary keeps being refused."""

from __future__ import annotations

import pytest

from signaling.limits import join_refusal

WINDOW = 60
BOUNDARY = 1_000_000 * WINDOW  # the start of a window


@pytest.fixture
def limits(settings):
    settings.SIGNALING_JOIN_WINDOW_SECONDS = WINDOW
    settings.SIGNALING_JOINS_PER_MEMBER = 2
    settings.SIGNALING_JOINS_PER_ADDRESS = 40


def join(at: float, user_id: int = 7, address: str = "192.0.2.1") -> str:
    return join_refusal(user_id=user_id, address=address, now=at)


def test_a_third_join_just_after_a_window_boundary_is_still_refused(limits):
    assert join(BOUNDARY - 2) == "" and join(BOUNDARY - 1) == ""
    assert "Too many reconnections" in join(BOUNDARY + 1)  # fixed windows alone forgot both joins here


def test_joins_a_full_window_apart_are_let_in_again(limits):
    assert join(BOUNDARY - 2) == "" and join(BOUNDARY - 1) == ""
    assert "Too many reconnections" in join(BOUNDARY - 0.5)
    # The previous window's joins weigh less as it slides out: a minute on, the member may join again.
    assert join(BOUNDARY + WINDOW - 1) == ""


def test_one_members_loop_does_not_refuse_another_member(limits):
    for at in (BOUNDARY - 3, BOUNDARY - 2, BOUNDARY - 1):
        join(at)
    assert join(BOUNDARY + 1, user_id=8, address="192.0.2.2") == ""


def test_an_address_is_limited_across_the_boundary_too(limits, settings):
    settings.SIGNALING_JOINS_PER_ADDRESS = 2
    assert join(BOUNDARY - 2, user_id=None) == "" and join(BOUNDARY - 1, user_id=None) == ""
    assert "Too many reconnections" in join(BOUNDARY + 1, user_id=None)


def test_a_loop_gets_in_about_its_limit_a_minute_while_it_keeps_trying(limits):
    """Refused joins are not counted: a loop that never stops is let in at the limit's pace, not shut out for good."""
    admitted = [at for at in range(BOUNDARY, BOUNDARY + 3 * WINDOW) if join(at) == ""]
    assert 4 <= len(admitted) <= 6  # at most 2 a minute for 3 minutes (the sliding estimate errs on the low side)
    for minute in range(3):  # let in every minute, to the last
        assert any(BOUNDARY + minute * WINDOW <= at < BOUNDARY + (minute + 1) * WINDOW for at in admitted)


def test_a_loop_leaves_room_for_the_others_behind_its_address(limits, settings):
    """An office's NAT, or a proxy: one member's reconnect loop must not use up everyone's allowance."""
    settings.SIGNALING_JOINS_PER_ADDRESS = 4
    others = []
    for at in range(BOUNDARY, BOUNDARY + 3 * WINDOW):
        join(at, user_id=7)  # a loop, every second
        if at % WINDOW == 30:
            others.append(join(at, user_id=8))  # a colleague, once a minute
    assert others and all(refusal == "" for refusal in others)


def test_when_the_cache_fails_joins_are_let_in_and_logged(settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1"}
    }
    settings.SIGNALING_JOINS_PER_MEMBER = 1
    assert join(BOUNDARY) == "" and join(BOUNDARY + 1) == ""
    assert "Join limits are not counted" in caplog.text
