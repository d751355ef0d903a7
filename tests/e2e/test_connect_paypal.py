"""An SME connects PayPal from the dashboard through PayPal's (the emulator's) pages, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from payouts.paypal.emulator import payer_id_for
from tests.factories import make_sme

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_sme_connects_paypal_from_the_dashboard_then_disconnects_it(live_app, new_page, paypal_emulator_server):
    sme = make_sme(username="paypal-sme")
    page = new_page(user=sme, viewport={"width": 390, "height": 844})  # a phone
    to_paypal = []
    page.on("request", lambda r: to_paypal.append(r) if r.url.startswith(paypal_emulator_server.url) else None)

    page.goto("/dashboard/")
    section = page.locator("#paypal")
    expect(section).to_contain_text("PayPal not linked")
    expect(section).to_contain_text("$0.00")
    section.get_by_role("link", name="Connect PayPal").click()
    page.get_by_role("button", name="Continue to PayPal").click()

    expect(page.get_by_role("heading", name="Log in with PayPal")).to_be_visible()
    page.get_by_label("PayPal account e-mail").fill("ada.paid@example.com")
    page.get_by_label("PayPal account e-mail").press("Enter")  # the keyboard is enough

    expect(page).to_have_url(re.compile(r"/dashboard/#paypal$"))
    expect(page.locator(".messages")).to_contain_text("Your PayPal account is connected")
    expect(section).to_contain_text("PayPal connected")
    expect(section).to_contain_text("ada.paid@example.com")
    sme.sme_profile.refresh_from_db()
    assert (sme.sme_profile.paypal_payer_id, sme.sme_profile.paypal_verified) == (
        payer_id_for("ada.paid@example.com"),
        True,
    )

    section.get_by_role("link", name="Disconnect PayPal…").click()
    expect(page.get_by_role("heading", name="Disconnect PayPal?")).to_be_visible()  # it asks first
    page.get_by_role("button", name="Disconnect PayPal").click()
    expect(section).to_contain_text("PayPal not linked")

    # The one other site the browser saw is PayPal, and only by going there: nothing was loaded from it.
    assert to_paypal and all(r.is_navigation_request() for r in to_paypal)
    page.watch.foreign_requests[:] = [
        u for u in page.watch.foreign_requests if not u.startswith(paypal_emulator_server.url)
    ]
