"""Reads about money worth a name: balances, and what the SME dashboard shows about getting paid."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.db.models import Q, Sum

from accounts.models import SMEProfile, User

from .models import LedgerEntry


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
