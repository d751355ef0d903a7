from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from .provider import PayPalProvider

urlpatterns = default_urlpatterns(PayPalProvider)
