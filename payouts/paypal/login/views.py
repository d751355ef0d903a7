"""allauth's PayPal OAuth2 adapter with the hosts taken from settings instead of paypal.com."""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
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

    def complete_login(self, request, app, token, **kwargs):
        # allauth's request, but it read any answer as the user's profile: PayPal's 5xx or 401 has no
        # user_id, and the SME got a server error. Refused or malformed answers are now an
        # authentication error (allauth then calls the adapter, which says "try again").
        with get_adapter().get_requests_session() as session:
            response = session.post(self.profile_url, params={"schema": "openid", "access_token": token.token})
            response.raise_for_status()
            extra_data = response.json()
        if not isinstance(extra_data, dict) or not extra_data.get("user_id"):
            raise OAuth2Error("PayPal's userinfo answer names no account.")
        return self.get_provider().sociallogin_from_response(request, extra_data)


# allauth's confirmation page POSTs to itself and is redirected to PayPal's authorize page.
oauth2_login = paypal_form_action(OAuth2LoginView.adapter_view(PayPalOAuth2Adapter))
oauth2_callback = OAuth2CallbackView.adapter_view(PayPalOAuth2Adapter)
