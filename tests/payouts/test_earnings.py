"""The SME's earnings page: next payout (and why it moved), what it will pay, past payouts, the ledger history."""

from datetime import date

import pytest
from django.core.management import call_command

from payouts.calendar import next_payout_day
from payouts.runs import payout_today
from payouts.selectors import sme_earnings
from tests.factories import make_client
from tests.payouts.payout_support import earn, sme_with_balance

pytestmark = pytest.mark.django_db


def test_the_next_payout_says_why_it_moved():
    sme = sme_with_balance(2500)
    earnings = sme_earnings(profile=sme.sme_profile, today=date(2026, 12, 19))
    assert earnings.next_day.date == date(2026, 12, 31)
    assert earnings.next_day.moved_because == "moved from Friday 1 January: New Year's Day"
    assert (earnings.balance.amount_cents, earnings.blocker) == (2500, "")
    assert sme_earnings(profile=sme.sme_profile, today=date(2027, 1, 2)).next_day.moved_because == ""


def test_the_page_shows_the_next_payout_what_it_pays_past_payouts_and_the_history(client, paypal_emulator):
    sme = sme_with_balance(2500, email="failed@example.com")
    call_command("run_payouts", "--date", "2027-01-15", verbosity=0)
    call_command("sync_payouts", verbosity=0)
    earn(sme, 1800)
    client.force_login(sme)
    page = client.get("/payouts/earnings/").content.decode()
    upcoming = next_payout_day(payout_today()).date
    assert f"{upcoming:%A} {upcoming.day} {upcoming:%B} {upcoming.year}" in page
    assert "$43.00" in page  # the failed $25.00 came back, plus $18.00 earned since: all paid next time
    assert "15 Jan 2027" in page and "Failed" in page and "RECEIVER_ACCOUNT_LOCKED" in page
    assert page.count("<tr>") >= 1 + 4  # header + earning, payout, payout returned, earning
    assert "Payout returned" in page


def test_the_earnings_page_is_for_smes_only(client):
    client.force_login(make_client())
    assert client.get("/payouts/earnings/").status_code == 403
    client.logout()
    assert client.get("/payouts/earnings/").status_code == 302
