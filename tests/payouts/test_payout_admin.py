"""Django admin: the hold switch (audited), and runs, batches and items read-only with their ledger entries."""

from datetime import date

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent
from payouts.models import PayoutBatch, PayoutHold, PayoutItem, PayoutRun
from tests.payouts.payout_support import balance, sme_with_balance, staff

pytestmark = pytest.mark.django_db


def test_staff_hold_an_smes_payouts_in_admin_and_lift_it(client, paypal_emulator):
    admin = staff()
    client.force_login(admin)
    sme = sme_with_balance(5000)
    answer = client.post("/admin/payouts/payouthold/add/", {"account": sme.pk, "reason": "Disputed earnings"})
    assert answer.status_code == 302
    hold = PayoutHold.objects.get(account=sme, lifted_at__isnull=True)
    assert hold.placed_by == admin
    assert AuditEvent.objects.filter(event="payout.hold_placed", actor=admin, subject=sme).exists()
    again = client.post("/admin/payouts/payouthold/add/", {"account": sme.pk, "reason": "Again"})
    assert "on hold already" in again.content.decode() and PayoutHold.objects.count() == 1
    call_command("run_payouts", "--date", "2027-01-15", verbosity=0)
    assert balance(sme) == 5000
    client.post(
        "/admin/payouts/payouthold/", {"action": "lift", "_selected_action": [hold.pk], "index": 0}, follow=True
    )
    hold.refresh_from_db()
    assert hold.lifted_by == admin and hold.lifted_at is not None
    assert AuditEvent.objects.filter(event="payout.hold_lifted", actor=admin, subject=sme).exists()
    call_command("run_payouts", "--date", "2027-01-29", verbosity=0)
    assert balance(sme) == 0


def test_runs_batches_and_items_are_read_only_and_an_item_shows_its_ledger_entries(client, paypal_emulator):
    client.force_login(staff())
    sme_with_balance(2000, email="failed@example.com")
    call_command("run_payouts", "--date", "2027-01-15", verbosity=0)
    call_command("sync_payouts", verbosity=0)
    run, batch, item = PayoutRun.objects.get(), PayoutBatch.objects.get(), PayoutItem.objects.get()
    for model, obj in (("payoutrun", run), ("payoutbatch", batch), ("payoutitem", item)):
        assert client.get(f"/admin/payouts/{model}/").status_code == 200
        page = client.get(f"/admin/payouts/{model}/{obj.pk}/change/").content.decode()
        assert 'name="_save"' not in page
        assert client.get(f"/admin/payouts/{model}/add/").status_code == 403
    page = client.get(f"/admin/payouts/payoutitem/{item.pk}/change/").content.decode()
    assert "Payout returned" in page and "Payout" in page and "FAILED" in page
    assert client.post(f"/admin/payouts/payoutitem/{item.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PayoutItem.objects.filter(pk=item.pk).exists()
    assert date(2027, 1, 15) == run.payout_date
