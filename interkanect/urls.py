"""Root URLs."""

from django.contrib import admin
from django.urls import include, path

from . import views

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
    path("payouts/", include("payouts.urls")),
]
