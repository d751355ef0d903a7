"""Checks for money: the payout settings must make sense (always), and production must talk to PayPal, never
to the emulator's address (deploy)."""

import zoneinfo

import holidays
from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def paypal_configured_in_production(app_configs, **kwargs):
    if getattr(settings, "PAYPAL_EMULATED", False):
        return [
            checks.Warning(
                "No PayPal credentials: payments and payouts would go to the PayPal emulator, which never runs in "
                "production.",
                hint="Set PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_MODE=live (or sandbox).",
                id="payouts.W001",
            )
        ]
    return []


@checks.register()
def payout_settings_valid(app_configs, **kwargs):
    """A wrong holiday country or time zone would stop every payout run with a traceback: say so at start-up."""
    errors = []
    country = settings.PAYOUT_HOLIDAYS_COUNTRY
    subdivision = settings.PAYOUT_HOLIDAYS_SUBDIVISION or None
    try:
        holidays.country_holidays(country, subdiv=subdivision, years=2027)
    except NotImplementedError:
        errors.append(
            checks.Error(
                f"PAYOUT_HOLIDAYS_COUNTRY {country!r} (subdivision {subdivision!r}) is not a country python-holidays "
                "knows: the payout calendar cannot be computed.",
                hint="Use an ISO 3166 code such as US, GB, DE or NO (and a subdivision it lists, or none).",
                id="payouts.E001",
            )
        )
    try:
        zoneinfo.ZoneInfo(settings.PAYOUT_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors.append(
            checks.Error(
                f"PAYOUT_TIME_ZONE {settings.PAYOUT_TIME_ZONE!r} is not a time zone: run_payouts cannot tell what day "
                "it is.",
                hint="Use an IANA name such as America/New_York or Europe/London.",
                id="payouts.E002",
            )
        )
    if settings.PAYOUT_MINIMUM_CENTS < 1:
        errors.append(checks.Error("PAYOUT_MINIMUM_CENTS is at least 1 (cent).", id="payouts.E003"))
    if not 1 <= settings.PAYOUT_BATCH_MAX_ITEMS <= 15_000:
        errors.append(checks.Error("PAYOUT_BATCH_MAX_ITEMS is from 1 to 15,000 (PayPal's limit).", id="payouts.E004"))
    return errors
