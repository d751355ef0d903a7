"""Reads about money worth a name: balances, and what the SME dashboard shows about getting paid."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.db.models import Q, Sum

from accounts.models import SMEProfile, User

from .calendar import PayoutDay, next_payout_day
from .models import LedgerEntry, PayoutHold, PayoutItem


@dataclass(frozen=True)
class Money:
    amount_cents: int
    currency: str


def ledger_balance(*, account: User, currency: str | None = None) -> Money:
    """What the SME is owed now in one currency (the site's by default): the sum of their entries."""
    currency = currency or settings.CURRENCY
    total = LedgerEntry.objects.filter(account=account, currency=currency).aggregate(total=Sum("amount_cents"))
    return Money(total["total"] or 0, currency)


def paypal_login_available(*, request=None) -> bool:
    """Whether "Log in with PayPal" is configured (in settings or as a SocialApp in the admin)."""
    return bool(get_adapter().list_apps(request, provider="paypal"))


@dataclass(frozen=True)
class PayPalPanel:
    """The SME dashboard's "Getting paid" panel: the balance, and how the SME can link PayPal."""

    balance: Money
    login_available: bool


def sme_paypal_panel(*, profile: SMEProfile, request=None) -> PayPalPanel:
    return PayPalPanel(
        balance=ledger_balance(account=profile.user), login_available=paypal_login_available(request=request)
    )


@dataclass(frozen=True)
class PayoutReceiver:
    recipient_type: str  # PayPal's: "PAYPAL_ID" or "EMAIL"
    receiver: str


def sme_payout_receiver(*, profile: SMEProfile) -> PayoutReceiver | None:
    """Where a payout to this SME goes: their verified payer id where known, else their e-mail; None if unlinked."""
    if profile.paypal_verified and profile.paypal_payer_id:
        return PayoutReceiver("PAYPAL_ID", profile.paypal_payer_id)
    if profile.paypal_email:
        return PayoutReceiver("EMAIL", profile.paypal_email)
    return None


# --- Payouts ---


@dataclass(frozen=True)
class PayoutLine:
    """What a run would send one SME in one currency."""

    account_id: int
    amount_cents: int
    currency: str
    recipient_type: str
    receiver: str


def payout_lines(*, minimum_cents: int | None = None) -> Iterator[PayoutLine]:
    """Every SME balance a payout run pays: one grouped query over the ledger (per SME and currency), for SMEs
    with PayPal linked and no open hold, at or above the minimum. Ordered by SME, then currency."""
    minimum = max(settings.PAYOUT_MINIMUM_CENTS if minimum_cents is None else minimum_cents, 1)
    rows = (
        LedgerEntry.objects.filter(account__sme_profile__paypal_email__gt="")
        .exclude(account_id__in=PayoutHold.objects.filter(lifted_at__isnull=True).values("account_id"))
        .values(
            "account_id",
            "currency",
            "account__sme_profile__paypal_email",
            "account__sme_profile__paypal_payer_id",
            "account__sme_profile__paypal_verified",
        )
        .annotate(balance=Sum("amount_cents"))
        .filter(balance__gte=minimum)
        .order_by("account_id", "currency")
    )
    for row in rows.iterator(chunk_size=5000):
        payer_id = row["account__sme_profile__paypal_payer_id"]
        verified = row["account__sme_profile__paypal_verified"]
        yield PayoutLine(
            account_id=row["account_id"],
            amount_cents=row["balance"],
            currency=row["currency"],
            # As sme_payout_receiver: the verified payer id where known, else the e-mail address.
            recipient_type="PAYPAL_ID" if verified and payer_id else "EMAIL",
            receiver=payer_id if verified and payer_id else row["account__sme_profile__paypal_email"],
        )


def payout_hold_open(*, account: User) -> PayoutHold | None:
    return PayoutHold.objects.filter(account=account, lifted_at__isnull=True).first()


def payout_blocker(*, profile: SMEProfile, balance: Money | None = None) -> str:
    """Why the next payout run would not pay this SME (empty when it would): what their dashboard says."""
    if not profile.has_paypal:
        return "link PayPal to be paid"
    if payout_hold_open(account=profile.user) is not None:
        return "on hold: contact support"
    balance = balance or ledger_balance(account=profile.user)
    if balance.amount_cents < max(settings.PAYOUT_MINIMUM_CENTS, 1):
        return "below the minimum"
    return ""


@dataclass(frozen=True)
class Earnings:
    next_day: PayoutDay
    balance: Money
    blocker: str  # why the next payout will not pay (empty: it pays balance)
    minimum: Money
    payouts: list  # PayoutItem, newest first, with run and batch
    entries: list  # LedgerEntry, newest first


def sme_earnings(*, profile: SMEProfile, today: date, history: int = 200) -> Earnings:
    """The earnings page: the next payout (and why it moved), what it will pay, past payouts, the ledger."""
    balance = ledger_balance(account=profile.user)
    return Earnings(
        next_day=next_payout_day(today),
        balance=balance,
        blocker=payout_blocker(profile=profile, balance=balance),
        minimum=Money(settings.PAYOUT_MINIMUM_CENTS, settings.CURRENCY),
        payouts=list(
            PayoutItem.objects.filter(account=profile.user)
            .select_related("run", "batch")
            .order_by("-run__payout_date")[:history]
        ),
        entries=list(LedgerEntry.objects.filter(account=profile.user).order_by("-created_at", "-id")[:history]),
    )


def paypal_account_holders(
    *, email: str, payer_id: str = "", exclude: SMEProfile | None = None, open_only: bool = False
) -> list[SMEProfile]:
    """The SME profiles (of open accounts, and of closed ones unless open_only) linked to this PayPal
    account: the same payer id, or the same e-mail address."""
    same = Q()
    if email:
        same |= Q(paypal_email__iexact=email.strip())
    if payer_id:
        same |= Q(paypal_payer_id=payer_id)
    if not same:
        return []
    holders = SMEProfile.objects.filter(same).select_related("user")
    if open_only:
        holders = holders.filter(holds_paypal=True)
    if exclude is not None:
        holders = holders.exclude(pk=exclude.pk)
    return list(holders.order_by("pk"))
