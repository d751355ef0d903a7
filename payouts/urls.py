from django.urls import path

from . import views

urlpatterns = [
    path("paypal/disconnect/", views.paypal_disconnect, name="paypal_disconnect"),
]
