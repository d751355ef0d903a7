from django.urls import path

from . import views

urlpatterns = [
    path("earnings/", views.earnings, name="payouts_earnings"),
    path("paypal/email/", views.paypal_email, name="paypal_email"),
    path("paypal/disconnect/", views.paypal_disconnect, name="paypal_disconnect"),
]
