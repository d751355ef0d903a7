from django.urls import path

from . import views

urlpatterns = [
    path("earnings/", views.earnings, name="payouts_earnings"),
    path("paypal/disconnect/", views.paypal_disconnect, name="paypal_disconnect"),
]
