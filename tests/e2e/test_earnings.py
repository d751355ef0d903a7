"""An SME sees their next payout on the dashboard, then their past payouts on the earnings page, in a real browser."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.payouts.payout_support import sme_with_balance

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_sme_reads_their_next_payout_and_past_payouts(live_app, new_page, paypal_emulator):
    sme = sme_with_balance(2500, email="failed.sme@example.com")
    call_command("run_payouts", "--date", "2027-01-15", verbosity=0)
    call_command("sync_payouts", verbosity=0)  # PayPal reports the item FAILED: the $25.00 is back
    page = new_page(user=sme)
    page.goto("/dashboard/")
    expect(page.locator("#next-payout")).to_contain_text("It will pay your balance, $25.00")
    page.get_by_role("link", name="Your earnings and payouts").click()
    expect(page.get_by_role("heading", name="Your earnings")).to_be_visible()
    expect(page.locator("#past-payouts")).to_contain_text("Failed: back in your balance")
    expect(page.locator("#past-payouts")).to_contain_text("RECEIVER_ACCOUNT_LOCKED")
    expect(page.locator("#ledger-history")).to_contain_text("Payout returned")
