"""Root URLs."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from payouts.paypal.web import paypal_form_action

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    # A client's dashboard has "Pay with PayPal" forms, which lead to PayPal.
    path("dashboard/", paypal_form_action(account_views.dashboard), name="dashboard"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("sessions_app.urls")),
    path("", include("signaling.urls")),
    path("payouts/", include("payouts.urls")),
]
