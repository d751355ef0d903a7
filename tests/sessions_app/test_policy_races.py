"""The free-session policy under concurrency: two evaluations, or two admins' decisions, at the same moment.

Each call runs in its own thread with its own database connection and transaction, as two workers would.
"""

import pytest
from django.db import connection

from accounts.models import AuditEvent, SMEProfile
from sessions_app.models import FreeSessionReviewCase
from sessions_app.services import ReviewError, policy_evaluate_sme, review_dismiss, review_disqualify
from tests.factories import make_sme

from .policy_helpers import default_limits, hold_many, make_flagged_sme, make_reviewer  # noqa: F401
from .test_races import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.concurrent,
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite lets one writer in at a time, so two calls never overlap there; this runs on PostgreSQL.",
    ),
]
Case = FreeSessionReviewCase


@pytest.mark.parametrize("attempt", range(3))
def test_two_evaluations_at_once_open_one_case(attempt, settings):
    sme = make_sme()
    settings.FREE_SESSION_MAX_COUNT = 100  # going live evaluates at once here (it commits): not yet over
    hold_many(sme, free=9)
    settings.FREE_SESSION_MAX_COUNT = 8
    assert not Case.objects.filter(sme=sme).exists()
    # Going live and the periodic command evaluate the same SME at the same moment.
    results = run_at_once(lambda: policy_evaluate_sme(sme=sme), lambda: policy_evaluate_sme(sme=sme))
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.opened for r in results) == [False, True]
    assert results[0].case.pk == results[1].case.pk
    assert Case.objects.filter(sme=sme).count() == 1
    assert AuditEvent.objects.filter(event="free_sessions.case_opened", subject=sme).count() == 1


def test_two_admins_deciding_at_once_one_decision_stands_the_other_is_told():
    sme, case = make_flagged_sme()
    first, second = make_reviewer(username="first"), make_reviewer(username="second")
    results = run_at_once(
        lambda: review_disqualify(
            case=Case.objects.get(pk=case.pk), actor=first, reason="free sessions", cancel_open_consultations=True
        ),
        lambda: review_dismiss(case=Case.objects.get(pk=case.pk), actor=second, note="fine"),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ReviewError) and errors[0].code == "decided", results
    case.refresh_from_db()
    disqualified = SMEProfile.objects.get(user=sme).is_disqualified
    assert case.status == (Case.Status.DISQUALIFIED if disqualified else Case.Status.DISMISSED)
    assert case.decided_by == (first if disqualified else second)
    decisions = AuditEvent.objects.filter(event__in=["free_sessions.sme_disqualified", "free_sessions.case_dismissed"])
    assert decisions.count() == 1
