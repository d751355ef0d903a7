"""The one money formatter: integer cents and a currency code, as people read them."""

from __future__ import annotations

from django import template

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
