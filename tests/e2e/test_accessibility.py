"""Every page a person can reach passes axe-core's WCAG 2.2 A/AA rules (no serious or critical violation),
and home, the dashboards and the room fit a phone's width (390x844) with no sideways scrolling."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from playwright.sync_api import expect

from payouts.services import sme_paypal_connect
from sessions_app.services import consultation_claim
from tests.e2e.axe import axe_violations, describe, no_horizontal_overflow
from tests.e2e.test_room import enter, expect_state
from tests.factories import make_client, make_consultation, make_ready_consultation, make_sme, make_user
from tests.sessions_app.policy_helpers import default_limits, make_flagged_sme, make_reviewer  # noqa: F401 (autouse)

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def audit(page, paths: list[str]) -> None:
    """Visit each path and collect every serious or critical violation; fail once with all of them."""
    problems = []
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status < 500, f"{path} answered {response and response.status}"
        page.wait_for_load_state("networkidle")
        before = len(page.watch.problems)
        violations = axe_violations(page)
        problems += [describe(path, violations)] if violations else []
        problems += [f"{path}: {p}" for p in page.watch.problems[before:]]
    assert not problems, "Accessibility violations:\n" + "\n".join(problems)


def test_anonymous_pages(live_app, new_page):
    open_one = make_consultation(title="Open question")
    claimed = make_ready_consultation(title="Claimed already")
    pending = make_user(username="pending-person", activated=False)
    key = EmailConfirmationHMAC(EmailAddress.objects.get(user=pending)).key
    page = new_page()
    audit(
        page,
        [
            "/",
            "/help/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/signup/?role=sme",
            "/accounts/confirm-email/",
            f"/accounts/confirm-email/{key}/",
            "/accounts/confirm-email/no-such-key/",
            "/accounts/password/reset/",
            open_one.get_absolute_url(),
            claimed.get_absolute_url(),
            "/c/no-such-link/",
            "/no-such-page/",
        ],
    )
    # A form with errors, too.
    page.goto("/accounts/signup/")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#id_role_errors")).to_be_visible()
    assert not axe_violations(page), describe("/accounts/signup/ (errors)", axe_violations(page))


def test_sme_pages(live_app, new_page):
    sme = make_sme(username="a11y-sme")
    sme_paypal_connect(profile=sme.sme_profile, email="paid@example.com", payer_id="ABCDEFGHJKLMN", actor=sme)
    waiting = make_consultation(sme=sme, title="Waiting for a client")
    ready = make_ready_consultation(sme=sme, title="Claimed and ready")
    page = new_page(user=sme)
    audit(
        page,
        [
            "/dashboard/",
            "/consultations/new/",
            waiting.get_absolute_url(),
            ready.get_absolute_url(),
            f"/c/{waiting.token}/cancel/",
            "/accounts/profile/",
            "/accounts/close/",
            "/payouts/paypal/disconnect/",
            "/help/",
        ],
    )
    page.goto("/consultations/new/")
    page.get_by_role("button", name=re.compile("Create")).click()
    assert not axe_violations(page), describe("/consultations/new/ (errors)", axe_violations(page))


def test_client_pages(live_app, new_page):
    client = make_client(username="a11y-client")
    mine = make_ready_consultation(client=client, title="Mine")
    open_one = make_consultation(title="To claim")
    someone_elses = make_ready_consultation(title="Someone else's")
    to_pay = consultation_claim(consultation=make_consultation(title="To pay", price_cents=2500), client=client)
    page = new_page(user=client)
    audit(
        page,
        [
            "/dashboard/",
            mine.get_absolute_url(),
            open_one.get_absolute_url(),
            someone_elses.get_absolute_url(),
            to_pay.get_absolute_url(),
            f"/c/{mine.token}/cancel/",
            "/accounts/profile/",
            "/accounts/close/",
        ],
    )


def test_disqualified_sme_pages(live_app, new_page):
    sme, case = make_flagged_sme(username="a11y-flagged", display_name="Flagged Person")
    page = new_page(user=sme)
    audit(page, ["/dashboard/", "/consultations/new/"])


def test_admin_review_pages(live_app, new_page):
    sme, case = make_flagged_sme(username="a11y-gina", display_name="Gina Giver")
    staff = make_reviewer(username="a11y-reviewer")
    page = new_page(user=staff)
    audit(
        page,
        [
            "/admin/",
            "/admin/sessions_app/freesessionreviewcase/",
            f"/admin/sessions_app/freesessionreviewcase/{case.pk}/change/",
            f"/admin/sessions_app/freesessionreviewcase/{case.pk}/disqualify/",
            "/admin/sessions_app/consultation/",
        ],
    )


def test_the_room_for_both_people_connected(live_app, new_page):
    consultation = make_ready_consultation()
    sme_page = new_page(user=consultation.sme)
    client_page = new_page(user=consultation.client, viewport=PHONE)
    enter(sme_page, consultation)
    assert not axe_violations(sme_page), describe("room (SME, waiting)", axe_violations(sme_page))
    enter(client_page, consultation)
    for who, page in (("SME", sme_page), ("client", client_page)):
        expect_state(page, "connected")
        assert not axe_violations(page), describe(f"room ({who}, connected)", axe_violations(page))


@pytest.mark.parametrize("who", ["anonymous", "sme", "client"])
def test_home_dashboards_and_the_room_fit_a_phone_without_sideways_scrolling(live_app, new_page, who, tmp_path):
    consultation = make_ready_consultation(title="A consultation with a rather long title to wrap on a phone")
    user = {"anonymous": None, "sme": consultation.sme, "client": consultation.client}[who]
    page = new_page(user=user, viewport=PHONE)
    paths = ["/", "/help/"] if user is None else ["/dashboard/", consultation.get_absolute_url()]
    for path in paths:
        page.goto(path)
        page.screenshot(path=tmp_path / f"{who}{path.replace('/', '_')}.png", full_page=True)
        assert no_horizontal_overflow(page), f"{path} scrolls sideways on a 390 px wide screen ({who})"
    if user is not None:
        enter(page, consultation)
        page.screenshot(path=tmp_path / f"{who}_room.png", full_page=True)
        assert no_horizontal_overflow(page), f"the room scrolls sideways on a 390 px wide screen ({who})"
