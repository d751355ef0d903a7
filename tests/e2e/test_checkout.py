"""Checkout in real browsers: a client pays a priced consultation on the PayPal emulator's page, both meet in
the room, the expert ends it and sees the earning, the client the receipt; a cancelled paid one is refunded."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sessions_app.models import Consultation, Payment, Refund
from tests.e2e.test_room import enter, expect_state
from tests.factories import make_client, make_consultation, make_paid_consultation

pytestmark = pytest.mark.django_db(transaction=True)


def forget_paypal_pages(page, emulator) -> None:
    """PayPal's (the emulator's) pages are another site by design; the page watch checks only ours."""
    page.watch.foreign_requests[:] = [u for u in page.watch.foreign_requests if not u.startswith(emulator.url)]


def test_a_client_pays_on_paypal_both_meet_in_the_room_and_each_sees_the_money(new_page, paypal_emulator):
    consultation = make_consultation(price_cents=4550, title="Tax return review")
    client = make_client()
    client_page = new_page(user=client)
    client_page.goto(consultation.get_absolute_url())
    client_page.get_by_role("button", name="Claim this consultation").click()
    client_page.get_by_role("button", name="Pay $45.50 with PayPal").click()
    # PayPal's page (the emulator's): the amount, then Approve.
    expect(client_page.locator("#amount")).to_have_text("45.50 USD")
    client_page.get_by_role("button", name="Approve").click()
    expect(client_page.get_by_text("Paid: $45.50. The room is open.")).to_be_visible()
    expect(client_page.locator("#receipt")).to_contain_text("You paid $45.50 through PayPal")
    payment = Payment.objects.get(consultation=consultation)
    expect(client_page.locator("#receipt")).to_contain_text(f"PayPal transaction {payment.capture_id}")
    forget_paypal_pages(client_page, paypal_emulator)

    sme_page = new_page(user=consultation.sme)
    enter(sme_page, consultation)
    client_page.get_by_role("link", name="Enter the room").click()
    expect_state(sme_page, "connected")
    expect_state(client_page, "connected")
    sme_page.once("dialog", lambda dialog: dialog.accept())
    sme_page.get_by_role("button", name="End consultation").click()
    expect_state(sme_page, "ended")
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.COMPLETED

    sme_page.goto("/dashboard/")
    expect(sme_page.locator("#paypal-balance")).to_contain_text("$45.50")
    expect(sme_page.get_by_text("Earned $45.50 ($45.50 less $0.00 platform fee).")).to_be_visible()
    client_page.goto("/dashboard/")
    expect(client_page.get_by_text("Paid $45.50 through PayPal.")).to_be_visible()


def test_the_expert_cancels_a_paid_consultation_and_the_client_sees_the_refund(new_page, paypal_emulator):
    consultation = make_paid_consultation(price_cents=4550, title="Garden design")
    sme_page = new_page(user=consultation.sme)
    sme_page.goto(consultation.get_absolute_url())
    sme_page.get_by_role("link", name="Cancel consultation…").click()
    expect(sme_page.locator("#cancel-refund")).to_contain_text("they are refunded in full")
    sme_page.get_by_role("button", name="Cancel the consultation").click()
    expect(sme_page.get_by_text("The consultation is cancelled")).to_be_visible()

    client_page = new_page(user=consultation.client)
    client_page.goto(consultation.get_absolute_url())
    expect(client_page.locator("#refund-status")).to_contain_text("Refunded: $45.50 went back to your PayPal account")
    refund = Refund.objects.get(payment__consultation=consultation)
    assert refund.state == Refund.State.COMPLETED and refund.refund_id in paypal_emulator.state.refunds
