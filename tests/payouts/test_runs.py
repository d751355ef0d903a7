"""Payout runs over HTTP against the PayPal emulator: who is paid, statuses, crashes, never twice."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AuditEvent, User
from payouts import runs, services
from payouts.models import LedgerEntry, PayoutBatch, PayoutItem, PayoutRun
from payouts.paypal.emulator import payer_id_for
from tests.factories import make_sme
from tests.payouts.payout_support import (
    assert_paid_at_most_once_and_ledger_balances,
    balance,
    bulk_smes,
    earn,
    sme_with_balance,
    staff,
)

pytestmark = pytest.mark.django_db

PAYDAY = date(2027, 1, 15)  # a payout Friday
NEXT_PAYDAY = date(2027, 1, 29)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PAYOUT_MINIMUM_CENTS = 1000
    settings.PAYOUT_UNCLAIMED_CANCEL_DAYS = 25
    settings.PAYOUT_SYNC_DAYS = 30


def items_at_paypal(emulator) -> dict[str, str]:
    return {
        i["payout_item"]["sender_item_id"]: i["payout_item"]["amount"]["value"] for i in emulator.state.items.values()
    }


def test_a_payout_day_pays_each_eligible_sme_their_whole_balance_once(
    paypal_emulator, capsys, django_capture_on_commit_callbacks
):
    ada = sme_with_balance(2500)
    earn(ada, 1234)
    bob = sme_with_balance(1000)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_payouts", "--date", PAYDAY.isoformat())
    out = capsys.readouterr().out
    assert "2 items" in out and "$47.34" in out
    assert items_at_paypal(paypal_emulator) == {
        runs.sender_item_id(payout_date=PAYDAY, account_id=ada.pk, currency="USD"): "37.34",
        runs.sender_item_id(payout_date=PAYDAY, account_id=bob.pk, currency="USD"): "10.00",
    }
    assert balance(ada) == 0 and balance(bob) == 0
    batch = PayoutBatch.objects.get()
    assert batch.status == PayoutBatch.Status.SENT and batch.payout_batch_id
    assert PayoutRun.objects.get().status == PayoutRun.Status.SENT
    # The same date again (cron twice, an operator): nobody is paid again.
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert "Already created" in capsys.readouterr().out
    assert len(paypal_emulator.state.items) == 2
    # The sync settles them; each SME got an e-mail that their payout was sent.
    call_command("sync_payouts")
    assert set(PayoutItem.objects.values_list("transaction_status", flat=True)) == {"SUCCESS"}
    assert sorted(m.to[0] for m in mail.outbox if "on its way" in m.subject) == sorted([ada.email, bob.email])
    assert AuditEvent.objects.filter(event="ledger.payout_debited").count() == 2
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_an_sme_not_paid_keeps_the_balance_and_is_told_why(paypal_emulator, client):
    unlinked = sme_with_balance(5000, paypal=False)
    small = sme_with_balance(999)
    held = sme_with_balance(5000)
    runs_hold = services.payout_hold_place(account=held, reason="Chargeback under review", actor=staff())
    disqualified = sme_with_balance(2000)
    disqualified.sme_profile.disqualified_at = timezone.now()
    disqualified.sme_profile.save(update_fields=["disqualified_at"])
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    paid = {item.account_id for item in PayoutItem.objects.all()}
    assert paid == {disqualified.pk}  # still paid what they earned
    assert (balance(unlinked), balance(small), balance(held), balance(disqualified)) == (5000, 999, 5000, 0)
    for sme, why in (
        (unlinked, "link PayPal to be paid"),
        (small, "below the minimum"),
        (held, "on hold: contact support"),
    ):
        client.force_login(sme)
        assert why in client.get("/dashboard/").content.decode()
        assert why in client.get("/payouts/earnings/").content.decode()
    # Lifting the hold (audited) pays them at the next payout day.
    services.payout_hold_lift(hold=runs_hold, actor=staff())
    assert AuditEvent.objects.filter(event__in=["payout.hold_placed", "payout.hold_lifted"]).count() == 2
    call_command("run_payouts", "--date", NEXT_PAYDAY.isoformat())
    assert balance(held) == 0
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_a_day_that_is_not_a_payout_day_pays_nothing(paypal_emulator, capsys, settings):
    sme_with_balance(5000)
    with pytest.raises(CommandError, match="not a payout day"):
        call_command("run_payouts", "--date", "2027-01-14")
    assert not PayoutRun.objects.exists() and not paypal_emulator.state.items


def test_dry_run_prints_what_it_would_pay_and_changes_nothing(paypal_emulator, capsys):
    sme = sme_with_balance(4321)
    call_command("run_payouts", "--date", PAYDAY.isoformat(), "--dry-run")
    out = capsys.readouterr().out
    assert f"SME {sme.pk}: $43.21" in out and "would pay 1 SMEs" in out
    assert not PayoutRun.objects.exists() and not paypal_emulator.requests_seen() and balance(sme) == 4321


@pytest.mark.parametrize(
    "word,status,back",
    [
        ("sme", "SUCCESS", False),
        ("failed", "FAILED", True),
        ("returned", "RETURNED", True),
        ("blocked", "BLOCKED", True),
        ("refunded", "REFUNDED", True),
        ("onhold", "ONHOLD", False),
        ("pending", "PENDING", False),
        ("unclaimed", "UNCLAIMED", False),
    ],
)
def test_each_item_status_is_recorded_and_only_money_that_came_back_is_credited_once(
    paypal_emulator, word, status, back, django_capture_on_commit_callbacks
):
    sme = sme_with_balance(2000, email=f"{word}-x@example.com")
    call_command("run_payouts", "--date", PAYDAY.isoformat())  # sends, and reads once: PENDING
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_payouts")
        call_command("sync_payouts")
    item = PayoutItem.objects.get()
    assert item.transaction_status == status
    assert balance(sme) == (2000 if back else 0)
    reversal = LedgerEntry.objects.filter(kind="payout_reversal", account=sme)
    assert reversal.count() == (1 if back else 0)
    if back:
        assert status in reversal.get().reason and item.error_name in reversal.get().reason
        assert any("came back" in m.subject for m in mail.outbox)
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_a_paid_item_reversed_later_is_credited_back_once(paypal_emulator):
    sme = sme_with_balance(2000, email="reversed@example.com")
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    call_command("sync_payouts")
    assert PayoutItem.objects.get().transaction_status == "SUCCESS" and balance(sme) == 0
    call_command("sync_payouts")
    call_command("sync_payouts")
    assert PayoutItem.objects.get().transaction_status == "REVERSED" and balance(sme) == 2000
    assert LedgerEntry.objects.filter(kind="payout_reversal").count() == 1
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_unclaimed_is_cancelled_after_the_days_set_and_credited_once_when_returned(paypal_emulator):
    sme = sme_with_balance(2000, email="unclaimed@example.com")
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    call_command("sync_payouts")
    item = PayoutItem.objects.get()
    assert item.transaction_status == "UNCLAIMED" and balance(sme) == 0  # not money back: it can still be claimed
    runs.payouts_sync(now=timezone.now() + timedelta(days=24))
    assert not any(r["path"].endswith("/cancel") for r in paypal_emulator.requests_seen())
    runs.payouts_sync(now=timezone.now() + timedelta(days=26))
    cancels = [r for r in paypal_emulator.requests_seen() if r["path"].endswith("/cancel")]
    assert [r["request_id"] for r in cancels] == [f"cancel-{item.sender_item_id}"]
    item.refresh_from_db()
    assert item.transaction_status == "RETURNED" and balance(sme) == 2000
    runs.payouts_sync(now=timezone.now() + timedelta(days=27))
    assert LedgerEntry.objects.filter(kind="payout_reversal").count() == 1
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_unclaimed_then_returned_by_paypal_is_credited_once(paypal_emulator):
    sme = sme_with_balance(2000, email="unclaimed@example.com")
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    call_command("sync_payouts")
    paypal_emulator.set_item_status(PayoutItem.objects.get().sender_item_id, "RETURNED")
    call_command("sync_payouts")
    call_command("sync_payouts")
    assert balance(sme) == 2000 and LedgerEntry.objects.filter(kind="payout_reversal").count() == 1
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_a_verified_sme_is_paid_by_payer_id(paypal_emulator):
    sme = make_sme()
    services.sme_paypal_connect(
        profile=sme.sme_profile, email="ada@example.com", payer_id=payer_id_for("ada@example.com"), actor=sme
    )
    earn(sme, 1500)
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    (sent,) = paypal_emulator.state.items.values()
    assert (sent["payout_item"]["recipient_type"], sent["payout_item"]["receiver"]) == (
        "PAYPAL_ID",
        payer_id_for("ada@example.com"),
    )


def test_a_batch_of_2500_items_is_read_in_pages(paypal_emulator, settings):
    from payouts.selectors import payout_lines

    smes = bulk_smes(2499)
    failed = sme_with_balance(1000, email="failed@example.com")  # the last page has one that fails
    assert len(list(payout_lines())) == 2500
    call_command("run_payouts", "--date", PAYDAY.isoformat(), verbosity=0)
    call_command("sync_payouts", verbosity=0)
    batch_id = PayoutBatch.objects.get().payout_batch_id
    reads = [r for r in paypal_emulator.requests_seen() if r["method"] == "GET" and batch_id in r["path"]]
    assert len(reads) == 6  # 3 pages of 1,000, twice
    assert PayoutItem.objects.filter(transaction_status="SUCCESS").count() == 2499
    assert PayoutItem.objects.get(account=failed).transaction_status == "FAILED" and balance(failed) == 1000
    assert balance(User(pk=smes[-1])) == 0
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_more_items_than_a_batch_holds_go_in_several_batches(paypal_emulator, settings):
    settings.PAYOUT_BATCH_MAX_ITEMS = 2
    for _ in range(5):
        sme_with_balance(1000)
    call_command("run_payouts", "--date", PAYDAY.isoformat(), verbosity=0)
    assert list(PayoutBatch.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert len(paypal_emulator.state.batches) == 3
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_two_currencies_are_two_batches_each_sme_paid_in_both(paypal_emulator):
    sme = sme_with_balance(2000)
    earn(sme, 3000, "EUR")
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert sorted(PayoutBatch.objects.values_list("currency", flat=True)) == ["EUR", "USD"]
    assert balance(sme, "USD") == 0 and balance(sme, "EUR") == 0
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


# --- Faults: each crash point, then a rerun ---


def test_paypal_down_before_the_batch_reached_it_a_rerun_sends_it_once(paypal_emulator, settings):
    sme = sme_with_balance(2000)
    paypal_emulator.add_fault("server_error", path="/v1/payments/payouts", times=settings.PAYPAL_RETRIES + 1)
    with pytest.raises(CommandError, match="run the command again"):
        call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.NEW
    assert balance(sme) == 0 and not paypal_emulator.state.items  # debited, kept for this run: not paid yet
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.SENT and len(paypal_emulator.state.items) == 1
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_accepted_but_not_recorded_is_recovered_by_replaying_the_request_id(paypal_emulator, settings):
    sme_with_balance(2000)
    settings.PAYPAL_RETRIES = 0
    paypal_emulator.add_fault("accept_then_timeout", path="/v1/payments/payouts")
    with pytest.raises(CommandError):
        call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert len(paypal_emulator.state.batches) == 1 and PayoutBatch.objects.get().status == PayoutBatch.Status.NEW
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    batch = PayoutBatch.objects.get()
    assert batch.status == PayoutBatch.Status.SENT and batch.payout_batch_id == next(
        iter(paypal_emulator.state.batches)
    )
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_accepted_but_not_recorded_and_request_id_forgotten_is_recovered_from_the_duplicate_answer(
    paypal_emulator, settings
):
    sme_with_balance(2000)
    settings.PAYPAL_RETRIES = 0
    paypal_emulator.add_fault("accept_then_timeout", path="/v1/payments/payouts")
    with pytest.raises(CommandError):
        call_command("run_payouts", "--date", PAYDAY.isoformat())
    paypal_emulator.forget_request_ids()
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    batch = PayoutBatch.objects.get()
    assert batch.status == PayoutBatch.Status.SENT and batch.payout_batch_id == next(
        iter(paypal_emulator.state.batches)
    )
    assert len(paypal_emulator.state.items) == 1
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_a_crash_before_the_run_committed_leaves_nothing_and_a_rerun_pays_once(paypal_emulator, monkeypatch):
    sme = sme_with_balance(2000)
    # A fault inside the run's transaction (the process dies while writing items): nothing of it stays.
    real = services.ledger_debit_payouts

    def dies(**kwargs):
        real(**kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "ledger_debit_payouts", dies)
    with pytest.raises(KeyboardInterrupt):
        call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert not PayoutRun.objects.exists() and balance(sme) == 2000 and not paypal_emulator.requests_seen()
    monkeypatch.setattr(runs, "ledger_debit_payouts", real)
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert balance(sme) == 0 and len(paypal_emulator.state.items) == 1
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_a_sync_that_fails_midway_credits_back_once_after_a_rerun(paypal_emulator, settings):
    smes = [sme_with_balance(1500, email=f"failed{n}@example.com") for n in range(3)]
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    paypal_emulator.add_fault("server_error", path="/v1/payments/payouts/", times=settings.PAYPAL_RETRIES + 1)
    with pytest.raises(CommandError):
        call_command("sync_payouts")
    call_command("sync_payouts")
    call_command("sync_payouts")
    assert [balance(sme) for sme in smes] == [1500] * 3
    assert LedgerEntry.objects.filter(kind="payout_reversal").count() == 3
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_a_batch_paypal_cannot_fund_is_refused_and_the_money_goes_back(paypal_emulator, capsys):
    smes = [sme_with_balance(5000) for _ in range(2)]
    paypal_emulator.set_funds("60.00")
    call_command("run_payouts", "--date", PAYDAY.isoformat())
    assert "refused by PayPal" in capsys.readouterr().out
    batch = PayoutBatch.objects.get()
    assert batch.status == PayoutBatch.Status.REFUSED and "INSUFFICIENT_FUNDS" in batch.refusal
    assert [balance(sme) for sme in smes] == [5000, 5000] and not paypal_emulator.state.items
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)
    # With funds again, the next payout day pays them.
    paypal_emulator.set_funds(None)
    call_command("run_payouts", "--date", NEXT_PAYDAY.isoformat())
    assert [balance(sme) for sme in smes] == [0, 0]
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)


def test_the_emulator_refuses_what_paypal_refuses(paypal_emulator):
    from payouts.paypal.gateway import PayoutRequestItem, PayPalInvalidRequest, get_gateway

    gateway = get_gateway()
    item = PayoutRequestItem(sender_item_id="same", amount_cents=100, currency="USD", receiver="a@example.com")
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.create_payout_batch(sender_batch_id="dup-items", items=[item, item])
    assert (error.value.status, error.value.name) == (400, "VALIDATION_ERROR")
    many = [
        PayoutRequestItem(sender_item_id=f"i{n}", amount_cents=1, currency="USD", receiver="a@example.com")
        for n in range(15_001)
    ]
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.create_payout_batch(sender_batch_id="too-many", items=many)
    assert error.value.status == 400 and not paypal_emulator.state.items


def test_today_for_payouts_is_the_date_in_the_payout_time_zone(settings):
    # 25 hours apart: whatever the time, the date in Kiribati is a day or two after the date in Samoa.
    settings.PAYOUT_TIME_ZONE = "Pacific/Kiritimati"
    ahead = runs.payout_today()
    settings.PAYOUT_TIME_ZONE = "Pacific/Pago_Pago"
    behind = runs.payout_today()
    assert 1 <= (ahead - behind).days <= 2


def test_a_batch_left_unsent_is_sent_by_the_next_daily_run_even_on_a_day_that_is_no_payout_day(
    paypal_emulator, settings
):
    sme_with_balance(2000)
    paypal_emulator.add_fault("server_error", path="/v1/payments/payouts", times=settings.PAYPAL_RETRIES + 1)
    with pytest.raises(CommandError):
        call_command("run_payouts", "--date", PAYDAY.isoformat())
    # What cron's run_payouts (no --date) does on any day that is not a payout day: nothing new, but this.
    report = runs.payout_runs_send()
    assert report.sent_batches == 1 and not PayoutBatch.objects.filter(status=PayoutBatch.Status.NEW).exists()
    assert PayoutRun.objects.get().status == PayoutRun.Status.SENT
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)
