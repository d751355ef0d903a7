"""Helpers for the free-session policy tests: sessions held at explicit moments, a reviewer, a flagged SME."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from sessions_app.models import Consultation
from sessions_app.services import consultation_claim, consultation_go_live, consultation_mark_ready, policy_evaluate_sme
from tests.factories import make_client, make_consultation, make_sme, make_user


@pytest.fixture(autouse=True)
def default_limits(settings):
    """The documented defaults, pinned so an environment override cannot change what the tests mean.

    Autouse in each module that imports it."""
    settings.FREE_SESSION_WINDOW_DAYS = 30
    settings.FREE_SESSION_MAX_COUNT = 8
    settings.FREE_SESSION_MAX_SHARE_PERCENT = 50
    settings.FREE_SESSION_SHARE_MIN_SESSIONS = 10
    settings.FREE_SESSION_WARN_REMAINING = 2
    return settings


def hold(sme: User, *, free: bool, live_at: datetime, client: User | None = None) -> Consultation:
    """A session that went live at live_at (the services run as in the app; only the moment is set)."""
    consultation = make_consultation(sme=sme, price_cents=0 if free else 2500)
    consultation_claim(consultation=consultation, client=client or make_client())
    if not free:
        consultation_mark_ready(consultation=consultation)  # checkout's part, once payment is captured
    assert consultation_go_live(consultation=consultation)
    Consultation.objects.filter(pk=consultation.pk).update(live_at=live_at)
    return consultation


def hold_many(sme: User, *, free: int = 0, paid: int = 0, live_at: datetime | None = None) -> None:
    client = make_client()
    live_at = live_at or timezone.now() - timedelta(days=1)
    for _ in range(free):
        hold(sme, free=True, live_at=live_at, client=client)
    for _ in range(paid):
        hold(sme, free=False, live_at=live_at, client=client)


def make_reviewer(*, username: str = "reviewer", permission: bool = True) -> User:
    staff = make_user(username=username)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    if permission:
        staff.user_permissions.add(Permission.objects.get(codename="review_free_session_case"))
    return User.objects.get(pk=staff.pk)  # a fresh instance: no stale permission cache


def make_flagged_sme(**kwargs):
    """An SME over the count limit (9 free sessions, limit 8) with an open review case."""
    sme = make_sme(**kwargs)
    hold_many(sme, free=9)
    case = policy_evaluate_sme(sme=sme).case
    assert case is not None
    return sme, case
