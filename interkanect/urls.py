"""Root URLs."""

from django.contrib import admin
from django.urls import include, path

from . import paypal_link, views

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("accounts/close/", views.close_account, name="account_close"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("sessions_app.urls")),
    path("", include("signaling.urls")),
    # Linking PayPal may open a review case (sessions_app), so its entry point is composed here.
    path("payouts/paypal/email/", paypal_link.paypal_email, name="paypal_email"),
    path("payouts/", include("payouts.urls")),
]
