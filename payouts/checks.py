"""Deploy checks for money: production must talk to PayPal, never to the emulator's address."""

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
