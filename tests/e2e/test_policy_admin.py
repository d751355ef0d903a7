"""A staff reviewer disqualifies a flagged SME in the real Django admin; the SME then reads the reason."""

import pytest
from playwright.sync_api import expect

from sessions_app.models import Consultation
from tests.factories import make_consultation
from tests.sessions_app.policy_helpers import make_flagged_sme, make_reviewer

pytestmark = pytest.mark.django_db(transaction=True)
REASON = "nine free sessions in one month; please charge for your time"


def test_staff_disqualifies_a_flagged_sme_and_the_sme_sees_the_reason(live_app, new_page):
    sme, case = make_flagged_sme(username="gina", display_name="Gina Giver")
    waiting = make_consultation(sme=sme, title="Next week's session")
    staff = make_reviewer(username="ops-anna")

    admin = new_page(user=staff)
    admin.goto("/admin/")
    admin.get_by_role("link", name="Free-session review cases").click()
    admin.get_by_role("link", name="Open", exact=True).click()  # the status filter
    row = admin.locator("#result_list tbody tr", has_text="gina")
    expect(row).to_contain_text("9 free of 9 live sessions")
    expect(row).to_contain_text("more than 8 free sessions")
    row.get_by_role("link", name="Disqualify…").click()

    expect(admin.get_by_role("heading", name="Disqualify gina")).to_be_visible()
    admin.get_by_role("button", name="Disqualify").click()  # nothing filled in: the browser asks for the reason
    expect(admin).to_have_url(f"{live_app.url}/admin/sessions_app/freesessionreviewcase/{case.pk}/disqualify/")
    admin.get_by_label("Reason shown to the expert").fill(REASON)
    admin.get_by_label("Cancel them (a paid one is refunded)").check()
    admin.get_by_role("button", name="Disqualify").click()
    expect(admin.locator(".messagelist")).to_contain_text("Disqualified gina. Consultations cancelled: 1.")
    expect(admin.locator("#content")).to_contain_text("Decided by: ops-anna")
    assert Consultation.objects.get(pk=waiting.pk).state == Consultation.State.CANCELLED

    page = new_page(user=sme)
    page.goto("/dashboard/")
    expect(page.locator("#standing")).to_contain_text(f"Your SME account was disqualified: {REASON}.")
    expect(page.locator("#standing")).to_contain_text("Earned balances are still paid out.")
