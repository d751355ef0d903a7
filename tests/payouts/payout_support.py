"""Helpers for the payout tests: SMEs with a balance, and the invariants every payout test checks."""

from __future__ import annotations

import itertools
from collections import defaultdict

from django.db.models import Sum

from accounts.models import User
from payouts import services
from payouts.models import LedgerEntry, PayoutBatch, PayoutItem
from payouts.services import MONEY_BACK_STATUSES
from tests.factories import PASSWORD, make_sme

_earnings = itertools.count(1)


def staff() -> User:
    return User.objects.filter(username="payout-staff").first() or User.objects.create_superuser(
        "payout-staff", "staff@example.com", PASSWORD
    )


def earn(sme: User, cents: int, currency: str = "USD") -> LedgerEntry:
    """An earning on the SME's ledger (checkout credits these; here the ledger service is called directly)."""
    return services.ledger_credit_earning(
        account=sme, amount_cents=cents, currency=currency, source_key=f"consultation:test-{next(_earnings)}"
    )


def sme_with_balance(cents: int, *, email: str | None = None, paypal: bool = True, currency: str = "USD") -> User:
    sme = make_sme()
    if paypal:
        services.sme_paypal_enter_email(
            profile=sme.sme_profile, email=email or f"{sme.username}@example.com", actor=sme
        )
    if cents:
        earn(sme, cents, currency)
    return sme


def balance(sme: User, currency: str = "USD") -> int:
    return LedgerEntry.objects.filter(account=sme, currency=currency).aggregate(s=Sum("amount_cents"))["s"] or 0


def assert_paid_at_most_once_and_ledger_balances(emulator) -> None:
    """Each sender_item_id reached PayPal at most once; each item is debited once, credited back at most once
    and only when its money came back; PayPal's accepted items are exactly our items that were sent; and
    every SME's balance is what they earned less what PayPal holds as paid to them."""
    counts = emulator.sender_item_id_counts()
    twice = {sid: n for sid, n in counts.items() if n > 1}
    assert not twice, f"paid more than once: {twice}"

    items = {item.sender_item_id: item for item in PayoutItem.objects.select_related("batch")}
    at_paypal = {
        item["payout_item"]["sender_item_id"]: item for item in emulator.state.items.values()
    }  # what PayPal accepted
    assert set(at_paypal) <= set(items), "PayPal has items we never wrote"
    for sid, item in items.items():
        if item.batch.status in {PayoutBatch.Status.SENT, PayoutBatch.Status.CLOSED}:
            assert sid in at_paypal, f"{sid} recorded as sent but PayPal has no such item"
        if item.batch.status == PayoutBatch.Status.REFUSED:
            assert sid not in at_paypal, f"{sid} refused yet PayPal has it"

    entries = defaultdict(list)
    for entry in LedgerEntry.objects.exclude(payout_item_ref=""):
        entries[entry.payout_item_ref].append(entry)
    for sid, item in items.items():
        kinds = sorted(e.kind for e in entries[sid])
        money_back = item.batch.status == PayoutBatch.Status.REFUSED or item.transaction_status in MONEY_BACK_STATUSES
        expected = ["payout", "payout_reversal"] if money_back else ["payout"]
        assert kinds == expected, f"{sid} ({item.transaction_status}): ledger has {kinds}"
        assert [e.amount_cents for e in entries[sid] if e.kind == "payout"] == [-item.amount_cents]

    # Per SME: balance == earned - sent and not back (what PayPal holds as paid or still paying).
    for sme_id in {item.account_id for item in items.values()}:
        earned = (
            LedgerEntry.objects.filter(account_id=sme_id)
            .exclude(kind__in=["payout", "payout_reversal"])
            .aggregate(s=Sum("amount_cents"))["s"]
            or 0
        )
        out = sum(
            item.amount_cents
            for item in items.values()
            if item.account_id == sme_id
            and item.batch.status != PayoutBatch.Status.REFUSED
            and item.transaction_status not in MONEY_BACK_STATUSES
        )
        assert balance(User(pk=sme_id)) == earned - out
