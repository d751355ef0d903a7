"""The "paypal" allauth provider, with our OAuth2 adapter (base URLs from settings)."""

from allauth.socialaccount.providers.paypal.provider import PaypalProvider

from .views import PayPalOAuth2Adapter


class PayPalProvider(PaypalProvider):
    name = "PayPal"
    oauth2_adapter_class = PayPalOAuth2Adapter
