"""Hooks django-allauth calls: where activation happens and where people land."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from . import services


class AccountAdapter(DefaultAccountAdapter):
    def confirm_email(self, request, email_address) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            # Activation is the confirmation of the e-mail address; the username is fixed from here on.
            services.user_activate(user=email_address.user)
        return confirmed

    def get_login_redirect_url(self, request) -> str:
        return reverse("dashboard")

    def get_email_verification_redirect_url(self, email_address) -> str:
        if self.request.user.is_authenticated:
            return reverse("dashboard")
        return reverse("account_login")
