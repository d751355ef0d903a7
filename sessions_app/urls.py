"""Consultation URLs: /c/<token>/ is the join link the SME sends (Consultation.get_absolute_url)."""

from django.urls import path

from . import views

urlpatterns = [
    path("consultations/new/", views.consultation_new, name="consultation_new"),
    path("c/<str:token>/", views.consultation_join, name="consultation_join"),
    path("c/<str:token>/claim/", views.consultation_claim, name="consultation_claim"),
    path("c/<str:token>/cancel/", views.consultation_cancel, name="consultation_cancel"),
    path("c/<str:token>/pay/", views.payment_start, name="payment_start"),
    path("c/<str:token>/pay/return/", views.payment_return, name="payment_return"),
    path("c/<str:token>/pay/cancelled/", views.payment_cancelled, name="payment_cancelled"),
    path("c/<str:token>/consultation.ics", views.consultation_calendar, name="consultation_calendar"),
]
