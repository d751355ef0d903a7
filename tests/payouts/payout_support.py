"""Helpers for the payout tests: SMEs with a balance, and the invariants every payout test checks."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from accounts.models import User
from payouts import services
from payouts.models import LedgerEntry, PayoutBatch, PayoutItem
from tests.factories import PASSWORD, make_sme

_earnings = itertools.count(1)
# PayPal's statuses of an item whose money came back: written out here, not imported from the code under test,
# so a wrong list there (UNCLAIMED in it, say) is a violation here.
MONEY_BACK_STATUSES = frozenset({"FAILED", "RETURNED", "BLOCKED", "REFUNDED", "REVERSED"})


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
    violations = payout_violations(emulator)
    assert not violations, "\n".join(violations[:20])


def payout_violations(emulator, *, settled: bool = True) -> list[str]:
    """What assert_paid_at_most_once_and_ledger_balances checks, as a list of violations (the soak counts them).

    settled=False allows batches still NEW (a runner crashed and the rerun has not happened yet)."""
    found = []
    counts = emulator.sender_item_id_counts()
    found += [f"{sid} paid {n} times" for sid, n in counts.items() if n > 1]

    items = {item.sender_item_id: item for item in PayoutItem.objects.select_related("batch")}
    with emulator.lock:
        at_paypal = {item["payout_item"]["sender_item_id"]: item for item in emulator.state.items.values()}
    found += [f"PayPal has {sid}, which we never wrote" for sid in set(at_paypal) - set(items)]
    for sid, item in items.items():
        if item.batch.status in {PayoutBatch.Status.SENT, PayoutBatch.Status.CLOSED} and sid not in at_paypal:
            found.append(f"{sid} recorded as sent but PayPal has no such item")
        if item.batch.status == PayoutBatch.Status.REFUSED and sid in at_paypal:
            found.append(f"{sid} refused, yet PayPal has it")
        if settled and item.batch.status == PayoutBatch.Status.NEW:
            found.append(f"{sid} never sent")
        if sid in at_paypal and Decimal(at_paypal[sid]["payout_item"]["amount"]["value"]) * 100 != item.amount_cents:
            found.append(f"{sid}: PayPal paid another amount")

    entries = defaultdict(list)
    for entry in LedgerEntry.objects.exclude(payout_item_ref=""):
        entries[entry.payout_item_ref].append(entry)
    for sid, item in items.items():
        kinds = sorted(e.kind for e in entries[sid])
        money_back = item.batch.status == PayoutBatch.Status.REFUSED or item.transaction_status in MONEY_BACK_STATUSES
        expected = ["payout", "payout_reversal"] if money_back else ["payout"]
        if kinds != expected:
            found.append(f"{sid} ({item.transaction_status or item.batch.status}): ledger has {kinds}, not {expected}")
        if [e.amount_cents for e in entries[sid] if e.kind == "payout"] != [-item.amount_cents]:
            found.append(f"{sid}: the debit is not the item's amount")

    # Per SME and currency: balance == earned - sent and not back (what PayPal holds as paid or still paying).
    def sums(queryset):
        rows = queryset.values("account_id", "currency").annotate(s=Sum("amount_cents")).order_by()
        return {(row["account_id"], row["currency"]): row["s"] for row in rows}

    balances = sums(LedgerEntry.objects.all())
    earned = sums(LedgerEntry.objects.exclude(kind__in=["payout", "payout_reversal"]))
    out = defaultdict(int)
    for item in items.values():
        if item.batch.status != PayoutBatch.Status.REFUSED and item.transaction_status not in MONEY_BACK_STATUSES:
            out[(item.account_id, item.currency)] += item.amount_cents
    for key in {(item.account_id, item.currency) for item in items.values()}:
        if balances.get(key, 0) != earned.get(key, 0) - out[key]:
            found.append(f"SME {key}: the ledger does not balance")
        if balances.get(key, 0) < 0:
            found.append(f"SME {key}: a negative balance (paid more than earned)")
    return found


def bulk_smes(count: int, *, cents: int = 1500, prefix: str = "bulk") -> list[int]:
    """Many SMEs with PayPal linked and a balance, written in bulk (the factories take a second each).

    For scale only: the behaviour under test is the run; each SME's earning is one ledger row as the
    earning service writes it (same kind, key and source)."""
    from django.utils import timezone

    from accounts.models import SMEProfile

    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com", role=User.Role.SME, password="!")
            for n in range(count)
        ],
        batch_size=2000,
    )
    SMEProfile.objects.bulk_create(
        [
            SMEProfile(user=user, display_name=user.username, paypal_email=user.email, paypal_linked_at=now)
            for user in users
        ],
        batch_size=2000,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account=user,
                kind=LedgerEntry.Kind.EARNING,
                amount_cents=cents,
                currency="USD",
                idempotency_key=f"earning:consultation:{prefix}-{user.pk}",
                source_key=f"consultation:{prefix}-{user.pk}",
            )
            for user in users
        ],
        batch_size=2000,
    )
    return [user.pk for user in users]
