"""Every write to money: ledger entries, and the PayPal account an SME is paid to.

A ledger service records one source event once: its idempotency key names the event, the database
refuses a second row with it, and a repeat call returns the entry already there (a "repeat" with
another account or amount is refused: it is a bug upstream, not a retry).
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import SMEProfile, User
from accounts.services import audit_record

from .models import LedgerEntry
from .selectors import paypal_account_holders

Kind = LedgerEntry.Kind
# Balances are summed per exact code: "usd" would be a second, invisible balance beside "USD".
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# What an earning is for: "<kind>:<id>", e.g. "consultation:42".
SOURCE_KEY = re.compile(r"[a-z][a-z_]*:[A-Za-z0-9_-]{1,100}")


# PayPal's transaction_status values of a payout item whose money came back to us (or never left).
MONEY_BACK_STATUSES = frozenset({"FAILED", "RETURNED", "UNCLAIMED", "BLOCKED", "REFUNDED", "REVERSED"})


class LedgerError(ValueError):
    """An entry that must not be recorded; the message says why."""


def _require_cents(amount_cents: object) -> None:
    # A float, Decimal or string would be rounded or cast silently by the database column (12.5 stored as
    # 12), and a bool is an int to Python (True stored as 1): money is an exact integer of cents or nothing.
    if type(amount_cents) is not int:
        raise LedgerError(
            f"An amount is a whole number of cents (an int), not {type(amount_cents).__name__} "
            f"{amount_cents!r}; nothing was recorded."
        )


def _record(*, event: str, actor: User | None, **fields) -> LedgerEntry:
    """Insert the entry, or return the one already recorded for the same source event."""
    _require_cents(fields["amount_cents"])
    key = fields["idempotency_key"]
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(**fields)
    except IntegrityError:
        existing = LedgerEntry.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise  # another constraint: a bug in the caller, not a repeat
        # A repeat must be the same event: the same key with another amount or account is a bug upstream,
        # and answering with the first entry would hide that the ledger and PayPal disagree.
        wanted = (fields["account"].pk, fields["kind"], fields["amount_cents"], fields["currency"])
        if (existing.account_id, existing.kind, existing.amount_cents, existing.currency) != wanted:
            raise LedgerError(
                f"{key!r} is already recorded as {existing.amount_cents} {existing.currency} "
                f"({existing.get_kind_display()}) for another amount or account; nothing was recorded."
            ) from None
        return existing
    audit_record(
        event=event,
        actor=actor,
        subject=entry.account,
        target=entry,
        data={"amount_cents": entry.amount_cents, "currency": entry.currency, "key": key},
    )
    return entry


@transaction.atomic
def ledger_credit_earning(*, account: User, amount_cents: int, currency: str, source_key: str) -> LedgerEntry:
    """Credit the SME with what one source event earned them (amount_cents > 0). Once per source_key.

    source_key names the event as "<kind>:<id>" ("consultation:42"); the caller (the app that owns the
    event) decides that it earns money, the ledger only that it is credited once.
    """
    if type(amount_cents) is not int or amount_cents <= 0:
        raise LedgerError("An earning credits a positive whole number of cents.")
    if not CURRENCY_CODE.fullmatch(currency):
        raise LedgerError("A currency is a three-letter code in capitals, such as USD.")
    if not SOURCE_KEY.fullmatch(source_key):
        raise LedgerError("An earning names its source as kind:id, such as consultation:42.")
    return _record(
        event="ledger.earning_credited",
        actor=None,
        account=account,
        kind=Kind.EARNING,
        amount_cents=amount_cents,
        currency=currency,
        idempotency_key=f"earning:{source_key}",
        source_key=source_key,
    )


@transaction.atomic
def ledger_debit_payout(*, account: User, amount_cents: int, currency: str, payout_item_ref: str) -> LedgerEntry:
    """Debit what one payout item sends to the SME (amount_cents > 0). Once per payout item."""
    _require_cents(amount_cents)
    if amount_cents <= 0:
        raise LedgerError("A payout sends a positive amount.")
    if not payout_item_ref:
        raise LedgerError("A payout debit names its payout item.")
    if not CURRENCY_CODE.fullmatch(currency):
        raise LedgerError("A currency is a three-letter code in capitals, such as USD.")
    return _record(
        event="ledger.payout_debited",
        actor=None,
        account=account,
        kind=Kind.PAYOUT,
        amount_cents=-amount_cents,
        currency=currency,
        idempotency_key=f"payout:{payout_item_ref}",
        payout_item_ref=payout_item_ref,
    )


@transaction.atomic
def ledger_reverse_payout(*, payout_item_ref: str, status: str) -> LedgerEntry:
    """Credit back a payout item that PayPal reports FAILED, RETURNED or UNCLAIMED. Once per item."""
    if status not in MONEY_BACK_STATUSES:
        # SUCCESS, PENDING, ONHOLD: the money is with the SME or may still reach them; crediting it back pays twice.
        raise LedgerError(f"A payout item that is {status!r} did not come back to us; nothing is credited back.")
    debit = LedgerEntry.objects.filter(idempotency_key=f"payout:{payout_item_ref}").first()
    if debit is None:
        raise LedgerError(f"No payout was debited for the item {payout_item_ref!r}; there is nothing to reverse.")
    return _record(
        event="ledger.payout_reversed",
        actor=None,
        account=debit.account,
        kind=Kind.PAYOUT_REVERSAL,
        amount_cents=-debit.amount_cents,
        currency=debit.currency,
        idempotency_key=f"payout-reversal:{payout_item_ref}",
        payout_item_ref=payout_item_ref,
        reason=f"PayPal reported the payout item {status}.",
    )


@transaction.atomic
def ledger_reverse_earning(*, source_key: str, reason: str, actor: User | None = None) -> LedgerEntry:
    """Take back an earning already credited, because its source was refunded to the client. Once per source."""
    earning = LedgerEntry.objects.filter(idempotency_key=f"earning:{source_key}").first()
    if earning is None:
        raise LedgerError(f"No earning was credited for {source_key!r}; there is nothing to reverse.")
    if not reason.strip():
        raise LedgerError("A reversed earning says why (the SME's history shows it).")
    return _record(
        event="ledger.earning_reversed",
        actor=actor,
        account=earning.account,
        kind=Kind.EARNING_REVERSAL,
        amount_cents=-earning.amount_cents,
        currency=earning.currency,
        idempotency_key=f"earning-reversal:{source_key}",
        source_key=source_key,
        reason=reason.strip(),
    )


def adjustment_key(request_key: str) -> str:
    """The idempotency key of the adjustment a form (identified by request_key) records."""
    return f"adjustment:{request_key}"


@transaction.atomic
def ledger_adjust(
    *,
    account: User,
    amount_cents: int,
    reason: str,
    admin: User,
    currency: str | None = None,
    request_key: str | None = None,
) -> LedgerEntry:
    """An admin's correction of an SME's balance, either sign, with a reason.

    request_key comes from the form that was shown, so submitting that form twice records it once.
    """
    _require_cents(amount_cents)
    errors = {}
    if amount_cents == 0:
        errors["amount_cents"] = "Enter an amount in cents other than 0 (negative to take money off the balance)."
    if not reason.strip():
        errors["reason"] = "Say why the balance is adjusted; the SME's history keeps it."
    currency = currency or settings.CURRENCY
    if not CURRENCY_CODE.fullmatch(currency):
        errors["currency"] = "Enter a three-letter currency code in capitals, such as USD."
    if not admin.is_staff:
        errors["__all__"] = "Only staff can adjust a balance."
    if errors:
        raise ValidationError(errors)
    return _record(
        event="ledger.adjusted",
        actor=admin,
        account=account,
        kind=Kind.ADJUSTMENT,
        amount_cents=amount_cents,
        currency=currency,
        idempotency_key=adjustment_key(request_key or uuid.uuid4().hex),
        created_by=admin,
        reason=reason.strip(),
    )


# --- The PayPal account an SME is paid to (stored on accounts.SMEProfile). ---

PAYPAL_FIELDS = ["paypal_email", "paypal_payer_id", "paypal_verified", "paypal_linked_at"]


def _paypal_saved(locked: SMEProfile, profile: SMEProfile) -> SMEProfile:
    locked.save(update_fields=PAYPAL_FIELDS)
    for name in PAYPAL_FIELDS:  # the caller's instance shows the change too
        setattr(profile, name, getattr(locked, name))
    return locked


def _paypal_snapshot(profile: SMEProfile) -> dict:
    return {"email": profile.paypal_email, "payer_id": profile.paypal_payer_id, "verified": profile.paypal_verified}


@transaction.atomic
def sme_paypal_connect(*, profile: SMEProfile, email: str, payer_id: str, actor: User) -> SMEProfile:
    """Link the PayPal account that "Log in with PayPal" verified (replacing any earlier one)."""
    if not email or not payer_id:
        raise ValidationError(
            "PayPal did not share your e-mail address and account ID. Try Connect PayPal again and allow both."
        )
    return _sme_paypal_link(
        profile=profile, email=email, payer_id=payer_id.strip(), verified=True, event="paypal.connected", actor=actor
    )


@transaction.atomic
def sme_paypal_enter_email(
    *, profile: SMEProfile, email: str, actor: User, replace_verified: bool = False
) -> SMEProfile:
    """Link a PayPal e-mail address the SME typed (when Log in with PayPal is not available): unverified.

    It never silently replaces an account PayPal verified: the SME must say so (replace_verified).
    """
    current = SMEProfile.objects.select_for_update().get(pk=profile.pk)
    if current.paypal_verified and not replace_verified:
        raise ValidationError(
            f"Your verified PayPal account {current.paypal_email} is linked. Confirm that this typed, unverified "
            "address replaces it.",
            code="replaces_verified",
        )
    return _sme_paypal_link(
        profile=profile, email=email, payer_id="", verified=False, event="paypal.email_entered", actor=actor
    )


class PayPalAccountTaken(ValidationError):
    """The PayPal account is linked to another open SME account (one open account per PayPal account)."""

    def __init__(self) -> None:
        super().__init__(
            "This PayPal account is already linked to another open InterKanect SME account, and a PayPal "
            "account is paid from one open SME account at a time. Link another PayPal account, or close "
            "the other SME account first (its balance is still paid out).",
            code="paypal_taken",
        )


def _paypal_release_typed_links(*, profile: SMEProfile, email: str, actor: User) -> None:
    # A typed (unverified) address proves nothing: whoever PayPal verifies as the account's owner takes it
    # over, so nobody can keep an SME from connecting their own PayPal account by typing its address first.
    squatters = SMEProfile.objects.select_for_update().filter(
        holds_paypal=True, paypal_verified=False, paypal_email__iexact=email
    )
    for other in squatters.exclude(pk=profile.pk):
        before = _paypal_snapshot(other)
        SMEProfile.objects.filter(pk=other.pk).update(
            paypal_email="", paypal_payer_id="", paypal_verified=False, paypal_linked_at=None
        )
        audit_record(
            event="paypal.unlinked_by_verified_owner",
            actor=actor,
            subject=other.user,
            target=other,
            data={"from": before, "verified_by": profile.user.username},
        )


def _sme_paypal_link(
    *, profile: SMEProfile, email: str, payer_id: str, verified: bool, event: str, actor: User
) -> SMEProfile:
    locked = SMEProfile.objects.select_for_update().get(pk=profile.pk)
    before = _paypal_snapshot(locked)
    locked.paypal_email = email.strip().lower()
    locked.paypal_payer_id = payer_id
    locked.paypal_verified = verified
    locked.paypal_linked_at = timezone.now()
    if locked.holds_paypal:
        if verified:
            _paypal_release_typed_links(profile=locked, email=locked.paypal_email, actor=actor)
        if paypal_account_holders(email=locked.paypal_email, payer_id=payer_id, exclude=locked, open_only=True):
            raise PayPalAccountTaken()
    locked.full_clean(exclude=["user", "display_name", "headline"])
    try:
        with transaction.atomic():
            _paypal_saved(locked, profile)
    except IntegrityError as exc:
        # Two accounts linking the same PayPal account at the same moment: the database lets one through.
        if "one_open_account" in str(exc):
            raise PayPalAccountTaken() from exc
        raise
    audit_record(
        event=event,
        actor=actor,
        subject=locked.user,
        target=locked,
        data={"from": before, "to": _paypal_snapshot(locked)},
    )
    return locked


@transaction.atomic
def sme_paypal_disconnect(*, profile: SMEProfile, actor: User) -> SMEProfile:
    """Unlink the SME's PayPal account. Their balance stays until they link another."""
    locked = SMEProfile.objects.select_for_update().get(pk=profile.pk)
    if not locked.paypal_email:
        raise ValidationError("No PayPal account is linked.")
    before = _paypal_snapshot(locked)
    locked.paypal_email = ""
    locked.paypal_payer_id = ""
    locked.paypal_verified = False
    locked.paypal_linked_at = None
    _paypal_saved(locked, profile)
    audit_record(event="paypal.disconnected", actor=actor, subject=locked.user, target=locked, data={"from": before})
    return locked
