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
    settings.SIGNALING_JOINS_PER_ADDRESS = 100


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
