"""Hooks django-allauth calls: where activation happens, where people land, and whose failed logins count where."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from . import services
from .models import User
from .usernames import username_validate, validate_username_rules

# The lockout policy (README, "Login limits"): failed logins for an account are counted per account,
# as allauth does, for every browser the account has never logged in on, so guessing a password stays
# limited however many addresses an attacker has. A browser where the account logged in before carries
# a signed "known device" cookie and counts its failures on a key of its own: someone who knows a
# username and fails on purpose locks out only unknown browsers, never the owner's own.
KNOWN_DEVICE_COOKIE = "interkanect_known_device"
KNOWN_DEVICE_SALT = "accounts.known-device"
KNOWN_DEVICE_MAX_AGE = 365 * 24 * 3600


def _known_device(request) -> dict | None:
    value = request.COOKIES.get(KNOWN_DEVICE_COOKIE) if request is not None else None
    if not value:
        return None
    try:
        device = signing.loads(value, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_MAX_AGE)
    except signing.BadSignature:
        return None
    return device if isinstance(device, dict) and {"user", "device"} <= device.keys() else None


ACTIVATION_LINK_SENT_SESSION_KEY = "activation_link_sent"


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        # Our rules (accounts/usernames.py) replace allauth's, so sign-up says what every other path says.
        if shallow:
            validate_username_rules(username)
            return username
        return username_validate(username)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth keys its per-account failed-login limit ("login_failed", N per M seconds per key) on
        # what this returns; see the policy above.
        default = super()._get_login_attempts_cache_key(request, **credentials)
        device = _known_device(request)
        login = credentials.get("email") or credentials.get("username") or ""
        if device is None or not login:
            return default
        owner = User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login), pk=device["user"])
        return f"known-device:{device['device']}" if owner.exists() else default

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        device = _known_device(request)
        if device is None or device["user"] != user.pk:
            device = {"user": user.pk, "device": secrets.token_urlsafe(16)}
        response.set_cookie(
            KNOWN_DEVICE_COOKIE,
            signing.dumps(device, salt=KNOWN_DEVICE_SALT),
            max_age=KNOWN_DEVICE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response

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
