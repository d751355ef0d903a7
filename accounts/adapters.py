"""Hooks django-allauth calls: where activation happens and where people land."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from . import services
from .usernames import username_validate, validate_username_rules

ACTIVATION_LINK_SENT_SESSION_KEY = "activation_link_sent"


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        # Our rules (accounts/usernames.py) replace allauth's, so sign-up says what every other path says.
        if shallow:
            validate_username_rules(username)
            return username
        return username_validate(username)

    def confirm_email(self, request, email_address) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            # Activation is the confirmation of the e-mail address; the username is fixed from here on.
            services.user_activate(user=email_address.user)
        return confirmed

    def send_confirmation_mail(self, request, emailconfirmation, signup: bool) -> None:
        super().send_confirmation_mail(request, emailconfirmation, signup)
        if request is not None:
            request._activation_link_sent = True

    def respond_email_verification_sent(self, request, user):
        # allauth sends no new link within its cooldown of the last one, yet shows the same page: tell the
        # page which happened, so it never says "we sent you a link" when nothing went out.
        request.session[ACTIVATION_LINK_SENT_SESSION_KEY] = getattr(request, "_activation_link_sent", False)
        return super().respond_email_verification_sent(request, user)

    def get_login_redirect_url(self, request) -> str:
        return reverse("dashboard")

    def get_email_verification_redirect_url(self, email_address) -> str:
        if self.request.user.is_authenticated:
            return reverse("dashboard")
        return reverse("account_login")

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        url = super().get_email_confirmation_url(request, emailconfirmation)
        # Carry where the person was going (a consultation's join link) inside the activation link, so
        # confirming from another device (a phone's mail app) still lands there, not on a bare login page.
        next_url = request.POST.get("next") or request.GET.get("next") if request is not None else None
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            url += "?" + urlencode({"next": next_url})
        return url
