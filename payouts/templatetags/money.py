"""Template helpers for money: format cents, and the SME dashboard's "Getting paid" panel."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from payouts.forms import PayPalEmailForm
from payouts.selectors import Money, ledger_balance, paypal_login_available

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}


@register.filter
def money(amount_cents: int, currency: str = "USD") -> str:
    """1234, "USD" → "$12.34"; -50 → "−$0.50". Money is formatted here only (integer cents elsewhere)."""
    cents = int(amount_cents or 0)
    sign = "−" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    symbol = SYMBOLS.get(currency)
    number = f"{whole:,}.{part:02d}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


@dataclass(frozen=True)
class PayPalPanel:
    balance: Money
    login_available: bool
    email_form: PayPalEmailForm | None


@register.simple_tag(takes_context=True)
def sme_paypal_panel(context, profile) -> PayPalPanel:
    request = context.get("request")
    login_available = paypal_login_available(request=request)
    return PayPalPanel(
        balance=ledger_balance(account=profile.user),
        login_available=login_available,
        email_form=None if login_available else PayPalEmailForm(),
    )
