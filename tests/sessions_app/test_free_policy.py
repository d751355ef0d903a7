"""The free-session policy: limits at their edges, the rolling window, the warning, idempotent evaluation,
the decisions' services, and what a disqualified SME can no longer do."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from sessions_app.models import Consultation, FreeSessionReviewCase
from sessions_app.selectors import FreeSessionFigures, FreeSessionLimits, free_session_figures
from sessions_app.services import (
    ConsultationError,
    ReviewError,
    consultation_complete,
    consultation_go_live,
    policy_evaluate_sme,
    review_dismiss,
    review_disqualify,
    sme_reinstate,
)
from tests.factories import (
    PASSWORD,
    make_client,
    make_consultation,
    make_paid_consultation,
    make_ready_consultation,
    make_sme,
)

from .policy_helpers import default_limits, hold, hold_many, make_flagged_sme, make_reviewer  # noqa: F401

pytestmark = pytest.mark.django_db
Case = FreeSessionReviewCase
State = Consultation.State


@pytest.fixture
def now():
    return timezone.now()


def page_text(response) -> str:
    """The page as a person reads it: no tags, single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def open_cases(sme):
    return Case.objects.filter(sme=sme, status=Case.Status.OPEN)


# --- The limits at their edges. ---


def test_count_limit_allows_exactly_the_limit_and_flags_one_more(settings, now):
    settings.FREE_SESSION_MAX_COUNT = 3
    settings.FREE_SESSION_SHARE_MIN_SESSIONS = 1000  # only the count rule here
    sme = make_sme()
    hold_many(sme, free=3, live_at=now - timedelta(days=2))
    assert policy_evaluate_sme(sme=sme, now=now).case is None

    hold(sme, free=True, live_at=now - timedelta(hours=1))
    result = policy_evaluate_sme(sme=sme, now=now)
    case = result.case
    assert result.opened and case.status == Case.Status.OPEN
    assert (case.free_sessions, case.live_sessions, case.max_count) == (4, 4, 3)
    assert case.crossed == "more than 3 free sessions"
    assert case.window_end == now and case.window_start == now - timedelta(days=30)


def test_share_limit_allows_exactly_half_and_flags_above(settings, now):
    settings.FREE_SESSION_MAX_COUNT = 100  # only the share rule here
    sme = make_sme()
    hold_many(sme, free=5, paid=5, live_at=now - timedelta(days=3))
    assert policy_evaluate_sme(sme=sme, now=now).case is None  # 5 of 10: exactly 50%

    hold(sme, free=True, live_at=now - timedelta(days=1))
    case = policy_evaluate_sme(sme=sme, now=now).case  # 6 of 11
    assert (case.free_sessions, case.live_sessions) == (6, 11)
    assert case.crossed == "more than 50% of 11 sessions free"


def test_share_limit_waits_for_the_minimum_number_of_sessions(settings, now):
    settings.FREE_SESSION_MAX_COUNT = 100
    sme = make_sme()
    hold_many(sme, free=9, live_at=now - timedelta(days=3))
    assert policy_evaluate_sme(sme=sme, now=now).case is None  # all free, but only 9 held

    hold(sme, free=True, live_at=now - timedelta(days=1))
    assert policy_evaluate_sme(sme=sme, now=now).case.live_sessions == 10


def test_both_limits_crossed_are_both_recorded(now):
    sme = make_sme()
    hold_many(sme, free=10, live_at=now - timedelta(days=1))
    assert policy_evaluate_sme(sme=sme, now=now).case.crossed == (
        "more than 8 free sessions and more than 50% of 10 sessions free"
    )


# --- The rolling window. ---


def test_window_counts_sessions_live_within_the_last_30_days_only(settings, now):
    settings.FREE_SESSION_MAX_COUNT = 1
    sme = make_sme()
    client = make_client()
    hold(sme, free=True, live_at=now - timedelta(days=30), client=client)  # exactly 30 days ago: out
    hold(sme, free=True, live_at=now - timedelta(days=29, hours=23, minutes=59), client=client)  # in
    hold(sme, free=True, live_at=now + timedelta(seconds=1), client=client)  # after `now`: not yet
    make_ready_consultation(sme=sme, client=client)  # free, never live: does not count

    figures = free_session_figures(sme=sme, now=now)
    assert (figures.free_sessions, figures.live_sessions) == (1, 1)
    assert policy_evaluate_sme(sme=sme, now=now).case is None

    # A second later the first one is still out, the future one in: two free sessions, over the limit of 1.
    later = now + timedelta(seconds=1)
    assert free_session_figures(sme=sme, now=later).free_sessions == 2
    assert policy_evaluate_sme(sme=sme, now=later).case.free_sessions == 2


def test_window_length_comes_from_settings(settings, now):
    settings.FREE_SESSION_WINDOW_DAYS = 7
    sme = make_sme()
    hold(sme, free=True, live_at=now - timedelta(days=8))
    hold(sme, free=True, live_at=now - timedelta(days=6))
    assert free_session_figures(sme=sme, now=now).free_sessions == 1


def test_a_session_still_counts_after_it_completed(now):
    sme = make_sme()
    consultation = hold(sme, free=True, live_at=now - timedelta(days=1))
    consultation_complete(consultation=consultation, actor=sme)
    assert free_session_figures(sme=sme, now=now).free_sessions == 1


# --- The warning: how many free sessions are left before a limit. ---


def simulated_free_left(live: int, free: int, limits: FreeSessionLimits) -> int:
    """Add free sessions one by one until a limit is crossed: the slow, obvious answer."""
    left = 0
    while True:
        nxt = FreeSessionFigures(None, None, live + left + 1, free + left + 1, limits)
        if nxt.over:
            return left
        left += 1


@pytest.mark.parametrize("percent,minimum,count", [(50, 10, 8), (30, 5, 20), (0, 3, 5), (100, 1, 4), (75, 0, 50)])
def test_free_left_matches_adding_free_sessions_one_by_one(percent, minimum, count):
    limits = FreeSessionLimits(30, count, percent, minimum, 2)
    for live in range(0, 25):
        for free in range(0, live + 1):
            figures = FreeSessionFigures(None, None, live, free, limits)
            expected = 0 if figures.over else simulated_free_left(live, free, limits)
            assert figures.free_left == expected, (live, free)


def test_warning_starts_when_two_free_sessions_are_left():
    limits = FreeSessionLimits.from_settings()
    assert FreeSessionFigures(None, None, 10, 3, limits).free_left == 4
    assert not FreeSessionFigures(None, None, 10, 3, limits).warning
    assert FreeSessionFigures(None, None, 10, 4, limits).free_left == 2
    assert FreeSessionFigures(None, None, 10, 4, limits).warning
    assert FreeSessionFigures(None, None, 0, 6, limits).warning  # count rule: 2 left of 8
    assert not FreeSessionFigures(None, None, 0, 5, limits).warning
    assert not FreeSessionFigures(None, None, 10, 6, limits).warning  # over: a review, not a warning


def test_dashboard_says_where_the_sme_stands_in_plain_words(client, now):
    sme = make_sme()
    hold_many(sme, free=4, paid=6, live_at=now - timedelta(days=2))
    client.force_login(sme)
    page = page_text(client.get("/dashboard/"))
    assert "4 of your 10 sessions in the last 30 days were free; the limit is 5 (50% of your sessions)." in page
    assert "Close to the limit You can give 2 more free sessions before you go over the limit" in page


def test_dashboard_names_the_share_limit_before_it_applies_when_it_binds_first(client, now):
    sme = make_sme()
    hold_many(sme, free=4, paid=5, live_at=now - timedelta(days=2))  # one more free: 5 of 10; two more: 6 of 11
    client.force_login(sme)
    page = page_text(client.get("/dashboard/"))
    assert (
        "4 of your 9 sessions in the last 30 days were free; the limit is 8, "
        "and 50% of your sessions once you have held 10."
    ) in page
    assert "You can give 1 more free session before you go over the limit" in page


def test_dashboard_says_when_the_next_free_session_goes_over(client, now):
    sme = make_sme()
    hold_many(sme, free=8, live_at=now - timedelta(days=2))  # the count limit: 8
    client.force_login(sme)
    page = page_text(client.get("/dashboard/"))
    assert "8 of your 8 sessions in the last 30 days were free; the limit is 8." in page
    assert "Your next free session would go over the limit" in page


def test_dashboard_without_warning_when_far_from_the_limits(client, now):
    sme = make_sme()
    hold_many(sme, free=1, paid=3, live_at=now - timedelta(days=2))
    client.force_login(sme)
    page = page_text(client.get("/dashboard/"))
    assert (
        "1 of your 4 sessions in the last 30 days was free; the limit is 8, "
        "and 50% of your sessions once you have held 10."
    ) in page
    assert "Within the limits You can give 5 more free sessions within the limit." in page
    assert "Close to the limit" not in page


def test_dashboard_says_the_account_is_under_review(client):
    sme, _ = make_flagged_sme()
    client.force_login(sme)
    page = page_text(client.get("/dashboard/"))
    assert "Under review" in page and "our team is reviewing your account" in page


def test_dashboard_after_a_dismissal_says_a_further_free_session_opens_a_new_review(client):
    sme, case = make_flagged_sme()
    review_dismiss(case=case, actor=make_reviewer(), note="Charity month.")
    client.force_login(sme)
    page = page_text(client.get("/dashboard/"))
    assert "Over the limit Our team has reviewed your free sessions; any further free session opens a new review." in (
        page
    )
    assert "Under review" not in page


# --- Evaluation: idempotent, on going live, and periodic. ---


def test_evaluating_twice_keeps_one_open_case_and_one_audit_row(now):
    sme = make_sme()
    hold_many(sme, free=9, live_at=now - timedelta(days=1))
    first = policy_evaluate_sme(sme=sme, now=now)
    second = policy_evaluate_sme(sme=sme, now=now + timedelta(minutes=5))
    assert first.opened and not second.opened
    assert second.case == first.case and open_cases(sme).count() == 1
    assert AuditEvent.objects.filter(event="free_sessions.case_opened", subject=sme).count() == 1


def test_database_refuses_a_second_open_case_for_one_sme():
    sme, case = make_flagged_sme()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            sme=sme,
            window_start=case.window_start,
            window_end=case.window_end,
            live_sessions=1,
            free_sessions=1,
            max_count=1,
            max_share_percent=1,
            share_min_sessions=1,
            crossed="x",
        )


def test_dismissed_case_is_not_reopened_by_the_same_sessions_but_by_a_new_free_one():
    sme, case = make_flagged_sme()
    review_dismiss(case=case, actor=make_reviewer(), note="Charity month, agreed with support.")
    assert policy_evaluate_sme(sme=sme).case is None

    hold(sme, free=True, live_at=timezone.now() + timedelta(seconds=1))
    result = policy_evaluate_sme(sme=sme, now=timezone.now() + timedelta(seconds=2))
    assert result.opened and result.case.free_sessions == 10


def test_going_live_with_a_free_session_evaluates_the_sme(django_capture_on_commit_callbacks):
    sme = make_sme()
    hold_many(sme, free=8)
    consultation = make_ready_consultation(sme=sme)
    with django_capture_on_commit_callbacks(execute=True):
        consultation_go_live(consultation=consultation)
    case = open_cases(sme).get()
    assert case.free_sessions == 9


def test_periodic_command_opens_cases_once(capsys):
    flagged, within = make_sme(), make_sme()
    hold_many(flagged, free=9)
    hold_many(within, free=2, paid=2)
    call_command("free_sessions_evaluate")
    assert "evaluated 2 SMEs, opened 1 review cases" in capsys.readouterr().out
    call_command("free_sessions_evaluate")
    assert "opened 0 review cases" in capsys.readouterr().out
    assert open_cases(flagged).count() == 1 and not open_cases(within).exists()


def test_disqualified_sme_is_not_evaluated_again():
    sme, case = make_flagged_sme()
    review_disqualify(
        case=case, actor=make_reviewer(), reason="too many free sessions", cancel_open_consultations=False
    )
    hold(sme, free=True, live_at=timezone.now())
    assert policy_evaluate_sme(sme=sme).case is None


# --- The decisions (services; the admin views are in test_policy_admin.py). ---


def test_disqualify_records_the_admin_time_and_reason_and_cancels_open_consultations():
    sme, case = make_flagged_sme()
    waiting = make_consultation(sme=sme, price_cents=4000)
    ready = make_ready_consultation(sme=sme)
    live = make_ready_consultation(sme=sme)
    consultation_go_live(consultation=live)
    reviewer = make_reviewer()
    before = timezone.now()

    case = review_disqualify(
        case=case, actor=reviewer, reason="most sessions were given away", cancel_open_consultations=True
    )

    assert case.status == Case.Status.DISQUALIFIED and case.decided_by == reviewer and case.decided_at >= before
    assert case.decision_text == "most sessions were given away" and case.cancelled_consultations == 2
    assert Consultation.objects.get(pk=waiting.pk).state == State.CANCELLED
    assert Consultation.objects.get(pk=ready.pk).state == State.CANCELLED
    assert Consultation.objects.get(pk=live.pk).state == State.LIVE  # runs to its end
    profile = sme.sme_profile.__class__.objects.get(user=sme)
    assert profile.is_disqualified and profile.disqualification_reason == "most sessions were given away"
    event = AuditEvent.objects.get(event="free_sessions.sme_disqualified")
    assert event.actor == reviewer and event.subject == sme and event.data["open_consultations"] == "cancel"


def test_disqualify_can_leave_open_consultations_for_admins():
    sme, case = make_flagged_sme()
    waiting = make_consultation(sme=sme)
    review_disqualify(case=case, actor=make_reviewer(), reason="free sessions", cancel_open_consultations=False)
    assert Consultation.objects.get(pk=waiting.pk).state == State.CREATED
    assert Case.objects.get(pk=case.pk).open_consultations == Case.OpenConsultations.LEAVE


def test_disqualify_needs_a_reason_and_changes_nothing_without_one():
    sme, case = make_flagged_sme()
    with pytest.raises(ValidationError):
        review_disqualify(case=case, actor=make_reviewer(), reason="   ", cancel_open_consultations=True)
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN
    sme.sme_profile.refresh_from_db()
    assert not sme.sme_profile.is_disqualified


def test_a_decision_cannot_be_changed_afterwards():
    sme, case = make_flagged_sme()
    first, second = make_reviewer(username="first"), make_reviewer(username="second")
    review_dismiss(case=case, actor=first, note="Fine: a workshop series.")
    with pytest.raises(ReviewError, match="already decided"):
        review_disqualify(case=case, actor=second, reason="changed my mind", cancel_open_consultations=False)
    with pytest.raises(ReviewError, match="already decided"):
        review_dismiss(case=case, actor=second, note="another note")
    case.refresh_from_db()
    assert (case.status, case.decided_by, case.decision_text) == (
        Case.Status.DISMISSED,
        first,
        "Fine: a workshop series.",
    )


def test_only_staff_with_the_review_permission_can_decide():
    sme, case = make_flagged_sme()
    for actor in (make_reviewer(username="no-perm", permission=False), make_client(), sme):
        with pytest.raises(ReviewError, match="Only staff"):
            review_disqualify(case=case, actor=actor, reason="x", cancel_open_consultations=False)
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN


def test_reinstate_lets_the_sme_host_again_and_keeps_the_disqualification_on_record():
    sme, case = make_flagged_sme()
    reviewer = make_reviewer()
    review_disqualify(case=case, actor=reviewer, reason="free sessions", cancel_open_consultations=False)
    sme_reinstate(sme=sme, actor=reviewer, note="Appeal accepted: they now charge.")
    case.refresh_from_db()
    assert case.status == Case.Status.REINSTATED and case.reinstated_by == reviewer
    assert case.decision_text == "free sessions" and case.decided_by == reviewer  # the first decision stays
    make_consultation(sme=sme)  # may create again
    assert AuditEvent.objects.filter(event="free_sessions.sme_reinstated", subject=sme).count() == 1
    with pytest.raises(ReviewError, match="not disqualified"):
        sme_reinstate(sme=sme, actor=reviewer, note="again")


# --- What a disqualified SME can no longer do, and what they keep. ---


def test_disqualified_sme_cannot_create_or_enter_the_room_and_sees_why(client):
    sme, case = make_flagged_sme()
    held_later = make_ready_consultation(sme=sme)  # left for admins: the room still refuses the SME
    completed = hold(sme, free=False, live_at=timezone.now() - timedelta(days=1))
    consultation_complete(consultation=completed, actor=sme)
    review_disqualify(
        case=case, actor=make_reviewer(), reason="most of your sessions were free", cancel_open_consultations=False
    )
    sme.refresh_from_db()

    with pytest.raises(ConsultationError, match="most of your sessions were free"):
        make_consultation(sme=sme)

    assert client.login(username=sme.username, password=PASSWORD)  # still logs in
    room = client.get(f"/rooms/{held_later.token}/")
    assert room.status_code == 403
    assert "disqualified: most of your sessions were free" in page_text(room)
    dashboard = page_text(client.get("/dashboard/"))
    assert "most of your sessions were free. Earned balances are still paid out." in dashboard

    client.force_login(held_later.client)
    assert "The expert can no longer host" in page_text(client.get(f"/rooms/{held_later.token}/"))

    # What they earned stands: a completed paid session stays completed (the ledger credits from it).
    completed.refresh_from_db()
    assert completed.state == State.COMPLETED and completed.price_cents == 2500


def test_database_keeps_the_figures_and_a_decision_final():
    sme, case = make_flagged_sme()
    reviewer = make_reviewer()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(free_sessions=1)  # what opened the case stays as it was
    review_disqualify(case=case, actor=reviewer, reason="free sessions", cancel_open_consultations=False)
    for change in ({"decision_text": "rewritten"}, {"decided_by": make_client()}, {"status": Case.Status.DISMISSED}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.filter(pk=case.pk).update(**change)
    sme_reinstate(sme=sme, actor=reviewer, note="appeal accepted")  # the one change a decision allows
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status=Case.Status.DISQUALIFIED, reinstated_at=None)
    case.refresh_from_db()
    case.save()  # saving unchanged values is no change
    assert (case.status, case.decision_text) == (Case.Status.REINSTATED, "free sessions")


def test_disqualified_sme_keeps_their_earned_balance_and_is_still_paid_out(client, paypal_emulator, settings):
    from payouts.models import LedgerEntry
    from payouts.selectors import ledger_balance, sme_payout_receiver
    from payouts.services import ledger_debit_payout
    from sessions_app.services import consultation_credit_earning

    sme, case = make_flagged_sme()
    earned = make_paid_consultation(sme=sme, price_cents=2500)  # paid through PayPal (the emulator)
    consultation_go_live(consultation=earned)
    consultation_complete(consultation=earned, actor=sme)
    consultation_credit_earning(consultation=earned)
    running = make_paid_consultation(sme=sme, price_cents=2500)
    consultation_go_live(consultation=running)  # live when the admin decides
    entries_before = list(LedgerEntry.objects.filter(account=sme).values_list("pk", "amount_cents"))

    review_disqualify(
        case=case, actor=make_reviewer(), reason="most of your sessions were free", cancel_open_consultations=True
    )

    # Untouched: no entry added, reversed or removed.
    assert list(LedgerEntry.objects.filter(account=sme).values_list("pk", "amount_cents")) == entries_before
    assert ledger_balance(account=sme).amount_cents == 2500
    # The session that was live runs to its end and still earns its price.
    running = Consultation.objects.select_related("sme__sme_profile").get(pk=running.pk)  # as a later request sees it
    assert running.state == State.LIVE
    consultation_complete(consultation=running, actor=None)
    consultation_credit_earning(consultation=running)
    assert ledger_balance(account=sme).amount_cents == 5000

    # Still payable: they can link PayPal, they are shown the balance, and a payout debits it. (The typed address,
    # offered where Log in with PayPal is not.)
    settings.SOCIALACCOUNT_PROVIDERS = {"paypal": {**settings.SOCIALACCOUNT_PROVIDERS["paypal"], "APPS": []}}
    client.force_login(sme)
    linked = client.post(reverse("paypal_email"), {"email": "gina@example.com", "email_again": "gina@example.com"})
    assert linked.status_code == 302
    sme.sme_profile.refresh_from_db()
    assert sme_payout_receiver(profile=sme.sme_profile).receiver == "gina@example.com"
    dashboard = page_text(client.get("/dashboard/"))
    assert "Your balance: $50.00" in dashboard and "Earned balances are still paid out." in dashboard
    ledger_debit_payout(account=sme, amount_cents=5000, currency="USD", payout_item_ref="run-1-item-1")
    assert ledger_balance(account=sme).amount_cents == 0


def test_disqualifying_cancels_a_claimed_paid_consultation_and_tells_its_client_by_email(
    mailoutbox, django_capture_on_commit_callbacks
):
    from sessions_app.services import consultation_claim

    sme, case = make_flagged_sme()
    buyer = make_client(username="buyer")
    claimed = make_consultation(sme=sme, title="Tax return review", price_cents=4000)
    consultation_claim(consultation=claimed, client=buyer)  # waiting for payment
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        review_disqualify(case=case, actor=make_reviewer(), reason="free sessions", cancel_open_consultations=True)

    claimed.refresh_from_db()
    assert claimed.state == State.CANCELLED and claimed.end_reason == "The expert's account was disqualified."
    to_client = [m for m in mailoutbox if m.to == [buyer.email]]
    assert len(to_client) == 1 and to_client[0].subject.endswith("Tax return review: cancelled")
    body = to_client[0].body
    assert "Reason: The expert's account was disqualified." in body
    assert "You were not charged." in body  # it was never paid
    assert "free sessions" not in body  # the admin's reason is for the expert, not their clients


def test_a_consultation_left_open_tells_its_members_the_room_is_closed_instead_of_offering_it(client):
    sme, case = make_flagged_sme()
    left = make_ready_consultation(sme=sme, title="Left for admins")
    review_disqualify(case=case, actor=make_reviewer(), reason="free sessions", cancel_open_consultations=False)
    room_link = f'href="/rooms/{left.token}/"'

    client.force_login(left.client)
    page = client.get(left.get_absolute_url())
    assert "The room is closed: the expert can no longer host consultations." in page_text(page)
    assert "The room is open" not in page_text(page) and room_link not in page.content.decode()
    listing = client.get("/dashboard/")
    assert "Room closed: the expert can no longer host" in page_text(listing)
    assert room_link not in listing.content.decode()

    client.force_login(sme)
    page = client.get(left.get_absolute_url())
    assert "disqualified: free sessions" in page_text(page) and "Its room stays closed" in page_text(page)
    assert room_link not in page.content.decode() and room_link not in client.get("/dashboard/").content.decode()


def test_a_reason_the_admin_ended_with_a_full_stop_reads_as_one_sentence(client):
    sme, case = make_flagged_sme()
    review_disqualify(
        case=case, actor=make_reviewer(), reason="Most of your sessions were free. ", cancel_open_consultations=False
    )
    client.force_login(sme)
    page = page_text(client.get("/dashboard/"))
    assert "disqualified: Most of your sessions were free. Earned balances are still paid out." in page
