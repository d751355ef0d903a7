"""Joining the room in one database call: what it costs, and the timer it hands the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import Consultation, ConsultationExtension
from signaling import services
from tests.factories import make_ready_consultation
from tests.signaling.test_consumer import session_cookie

pytestmark = pytest.mark.django_db


def session_key(user) -> str:
    return session_cookie(user).decode().split("=", 1)[1]


def test_a_join_costs_eight_queries_at_most(django_assert_max_num_queries):
    """Every socket's admission queues for the process's one database thread, so each round trip counts
    (benchmarks/relay_load.py's admissions a second): the session and its user, the room's rule, the row
    locked and updated (its commit), the pending extension."""
    consultation = make_ready_consultation(minutes=30)
    key = session_key(consultation.sme)
    with django_assert_max_num_queries(8):
        entry = services.room_enter(token=consultation.token, session_key=key, address="192.0.2.1", channel_name="a!1")
    assert entry.join.role == "sme" and entry.timer["total_minutes"] == 30


def test_the_timer_a_join_hands_the_page_is_the_rooms_as_it_was_locked(monkeypatch):
    """What changed between the admission's read and the join's lock (the room went live, an extension was
    proposed) is in the welcome's timer: it is read under the lock, not taken from the admission's read."""
    consultation = make_ready_consultation(minutes=30)
    live_at = timezone.now() - timedelta(minutes=5)
    admit = services.room_admission

    def admitted_then_changed(**kwargs):
        admission = admit(**kwargs)
        Consultation.objects.filter(pk=consultation.pk).update(state=Consultation.State.LIVE, live_at=live_at)
        ConsultationExtension.objects.create(consultation=consultation, minutes=10)
        return admission

    monkeypatch.setattr(services, "room_admission", admitted_then_changed)
    entry = services.room_enter(
        token=consultation.token, session_key=session_key(consultation.sme), address="192.0.2.1", channel_name="a!1"
    )
    assert entry.admission.consultation.state == Consultation.State.READY  # what the admission read
    timer = entry.timer
    assert timer["state"] == Consultation.State.LIVE and timer["started_at"] == live_at.isoformat()
    assert timer["pending_extension_minutes"] == 10
