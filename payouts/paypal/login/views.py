"""allauth's PayPal OAuth2 adapter with the hosts taken from settings instead of paypal.com."""

from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.paypal.views import PaypalOAuth2Adapter
from django.conf import settings

from ..web import paypal_form_action


class PayPalOAuth2Adapter(PaypalOAuth2Adapter):
    # The same paths as allauth's adapter; only the hosts come from settings (PayPal or the emulator).
    @property
    def authorize_url(self) -> str:
        return f"{settings.PAYPAL_WEB_BASE_URL}/webapps/auth/protocol/openidconnect/v1/authorize"

    @property
    def access_token_url(self) -> str:
        return f"{settings.PAYPAL_API_BASE_URL}/v1/identity/openidconnect/tokenservice"

    @property
    def profile_url(self) -> str:
        return f"{settings.PAYPAL_API_BASE_URL}/v1/identity/openidconnect/userinfo"


# allauth's confirmation page POSTs to itself and is redirected to PayPal's authorize page.
oauth2_login = paypal_form_action(OAuth2LoginView.adapter_view(PayPalOAuth2Adapter))
oauth2_callback = OAuth2CallbackView.adapter_view(PayPalOAuth2Adapter)
