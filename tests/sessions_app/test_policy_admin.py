"""The free-session review in Django admin, through the admin's own views, logged in as real staff users."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import AuditEvent, SMEProfile
from sessions_app.models import Consultation, FreeSessionReviewCase
from sessions_app.services import review_dismiss, review_disqualify
from tests.factories import make_consultation, make_ready_consultation, make_sme

from .policy_helpers import default_limits, make_flagged_sme, make_reviewer  # noqa: F401

pytestmark = pytest.mark.django_db
Case = FreeSessionReviewCase
State = Consultation.State
CHANGELIST = "/admin/sessions_app/freesessionreviewcase/"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def case_url(case: Case, action: str = "change") -> str:
    return reverse(f"admin:sessions_app_freesessionreviewcase_{action}", args=[case.pk])


@pytest.fixture
def reviewer(client):
    staff = make_reviewer()
    client.force_login(staff)
    return staff


@pytest.fixture
def flagged():
    return make_flagged_sme(username="giver", display_name="Gina Giver")


def test_case_list_shows_the_sme_figures_and_filters_by_status(client, reviewer, flagged):
    sme, case = flagged
    other, other_case = make_flagged_sme(username="dismissed-one")
    review_dismiss(case=other_case, actor=reviewer, note="ok")

    page = text(client.get(CHANGELIST + "?status__exact=open"))
    assert "giver" in page and "9 free of 9 live sessions" in page and "more than 8 free sessions" in page
    assert "dismissed-one" not in page
    assert "Disqualify…" in page and "Dismiss…" in page

    page = text(client.get(CHANGELIST + "?status__exact=dismissed"))
    assert "dismissed-one" in page and "giver" not in page
    assert "giver" not in text(client.get(CHANGELIST + "?status__exact=disqualified"))


def test_case_links_to_the_smes_consultations(client, reviewer, flagged):
    sme, case = flagged
    someone_else = make_sme(username="someone-else")
    make_consultation(sme=someone_else, title="Not theirs")
    make_consultation(sme=sme, title="Paid advice", price_cents=9900)

    change = client.get(case_url(case))
    assert change.status_code == 200
    assert "Figures now: 9 free of 9 live sessions in the last 30 days" in text(change)
    link = f"/admin/sessions_app/consultation/?sme__id__exact={sme.pk}"
    assert link in change.content.decode()

    listing = client.get(link)
    assert listing.status_code == 200
    page = text(listing)
    assert "Paid advice" in page and "$99.00" in page and "Not theirs" not in page
    free_only = text(client.get(link + "&free=yes"))
    assert "Paid advice" not in free_only and "Quick question" in free_only


def test_disqualify_through_the_admin_with_a_reason_and_cancelling_open_consultations(client, reviewer, flagged):
    sme, case = flagged
    waiting = make_consultation(sme=sme, price_cents=4000)
    form = client.get(case_url(case, "disqualify"))
    assert form.status_code == 200
    assert "They have 1 consultation not held yet" in text(form)

    response = client.post(
        case_url(case, "disqualify"), {"reason": "most of your sessions were free", "open_consultations": "cancel"}
    )

    assert response.status_code == 302 and response.url == case_url(case)
    case.refresh_from_db()
    assert case.status == Case.Status.DISQUALIFIED and case.decided_by == reviewer and case.decided_at
    assert case.decision_text == "most of your sessions were free"
    assert SMEProfile.objects.get(user=sme).disqualification_reason == "most of your sessions were free"
    assert Consultation.objects.get(pk=waiting.pk).state == State.CANCELLED
    assert AuditEvent.objects.get(event="free_sessions.sme_disqualified").actor == reviewer
    followed = text(client.get(response.url))
    assert "Disqualified giver. Consultations cancelled: 1." in followed
    assert "Reinstate…" in followed and "Disqualify…" not in followed


def test_disqualify_can_leave_open_consultations_for_admins(client, reviewer, flagged):
    sme, case = flagged
    ready = make_ready_consultation(sme=sme)
    client.post(case_url(case, "disqualify"), {"reason": "free sessions", "open_consultations": "leave"})
    assert Consultation.objects.get(pk=ready.pk).state == State.READY
    assert Case.objects.get(pk=case.pk).open_consultations == Case.OpenConsultations.LEAVE


def test_disqualify_without_a_reason_or_choice_says_what_is_missing_and_changes_nothing(client, reviewer, flagged):
    sme, case = flagged
    response = client.post(case_url(case, "disqualify"), {"reason": "  ", "open_consultations": ""})
    assert response.status_code == 200
    assert text(response).count("This field is required.") == 2
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN
    assert not SMEProfile.objects.get(user=sme).is_disqualified


def test_dismiss_through_the_admin_with_a_note(client, reviewer, flagged):
    sme, case = flagged
    response = client.post(case_url(case, "dismiss"), {"note": "Volunteer week, agreed with support."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decided_by, case.decision_text) == (
        Case.Status.DISMISSED,
        reviewer,
        "Volunteer week, agreed with support.",
    )
    assert not SMEProfile.objects.get(user=sme).is_disqualified
    assert AuditEvent.objects.filter(event="free_sessions.case_dismissed", actor=reviewer).exists()


def test_reinstate_through_the_admin(client, reviewer, flagged):
    sme, case = flagged
    review_disqualify(case=case, actor=reviewer, reason="free sessions", cancel_open_consultations=False)
    assert "Disqualified for: “free sessions”" in text(client.get(case_url(case, "reinstate")))
    response = client.post(case_url(case, "reinstate"), {"note": "Appeal accepted."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.REINSTATED and case.reinstated_by == reviewer
    assert not SMEProfile.objects.get(user=sme).is_disqualified
    make_consultation(sme=sme)  # hosts again


def test_a_decided_case_cannot_be_decided_again_or_edited(client, reviewer, flagged):
    sme, case = flagged
    client.post(case_url(case, "dismiss"), {"note": "fine"})

    response = client.post(case_url(case, "disqualify"), {"reason": "changed my mind", "open_consultations": "leave"})
    assert response.status_code == 302
    assert "that decision is not open to it any more" in text(client.get(response.url))
    assert client.post(case_url(case), {"decision_text": "rewritten", "status": "open"}).status_code == 403
    case.refresh_from_db()
    assert (case.status, case.decision_text) == (Case.Status.DISMISSED, "fine")
    assert not SMEProfile.objects.get(user=sme).is_disqualified
    assert client.get(CHANGELIST + "add/").status_code == 403
    assert client.post(case_url(case, "delete"), {"post": "yes"}).status_code == 403


def test_consultations_are_read_only_in_the_admin(client, reviewer, flagged):
    sme, case = flagged
    consultation = Consultation.objects.filter(sme=sme).first()
    url = reverse("admin:sessions_app_consultation_change", args=[consultation.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"title": "changed", "state": "cancelled"}).status_code == 403
    assert Consultation.objects.get(pk=consultation.pk).title == consultation.title
    assert consultation.token not in client.get(url).content.decode()  # the room's key stays hidden


def test_staff_without_the_review_permission_is_refused_everywhere(client, flagged):
    sme, case = flagged
    client.force_login(make_reviewer(username="plain-staff", permission=False))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(case_url(case)).status_code == 403
    assert client.get(case_url(case, "disqualify")).status_code == 403
    response = client.post(case_url(case, "disqualify"), {"reason": "x", "open_consultations": "cancel"})
    assert response.status_code == 403
    assert client.post(case_url(case, "dismiss"), {"note": "x"}).status_code == 403
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN
    assert "review case" not in text(client.get("/admin/")).lower()


def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, flagged):
    sme, case = flagged
    client.force_login(sme)
    response = client.post(case_url(case, "disqualify"), {"reason": "x", "open_consultations": "cancel"})
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN


def test_a_reviewer_cancels_consultations_left_for_admins_from_the_consultations_list(
    client, reviewer, flagged, mailoutbox, django_capture_on_commit_callbacks
):
    from sessions_app.services import consultation_go_live

    sme, case = flagged
    left = make_ready_consultation(sme=sme, title="Left for admins")
    live = make_ready_consultation(sme=sme, title="Running now")
    consultation_go_live(consultation=live)
    review_disqualify(case=case, actor=reviewer, reason="free sessions", cancel_open_consultations=False)
    mailoutbox.clear()

    listing = client.get(f"/admin/sessions_app/consultation/?sme__id__exact={sme.pk}")
    assert "Cancel the selected consultations not held yet" in text(listing)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/sessions_app/consultation/",
            {"action": "cancel_not_held", "_selected_action": [left.pk, live.pk]},
            follow=True,
        )

    page = text(response)
    assert "Consultations cancelled: 1." in page and "“Running now”: It was already live" in page
    left.refresh_from_db()
    assert (left.state, left.ended_by, left.end_reason) == (
        State.CANCELLED,
        reviewer,
        "The expert's account was disqualified.",
    )
    assert Consultation.objects.get(pk=live.pk).state == State.LIVE
    assert [left.client.email] in [m.to for m in mailoutbox]
    assert AuditEvent.objects.filter(event="consultation.cancelled", actor=reviewer).count() == 1


def test_staff_without_the_review_permission_cannot_cancel_consultations(client, flagged):
    sme, case = flagged
    left = make_ready_consultation(sme=sme)
    staff = make_reviewer(username="plain-staff", permission=False)
    staff.user_permissions.add(Permission.objects.get(codename="view_consultation"))
    client.force_login(staff)
    listing = client.get("/admin/sessions_app/consultation/")
    assert listing.status_code == 200 and "cancel_not_held" not in listing.content.decode()
    client.post("/admin/sessions_app/consultation/", {"action": "cancel_not_held", "_selected_action": [left.pk]})
    assert Consultation.objects.get(pk=left.pk).state == State.READY
