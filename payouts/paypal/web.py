"""What a page needs when its form sends the browser on to PayPal's own pages (checkout, Log in with PayPal)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings


def paypal_form_action(view):
    """Allow this view's pages to submit forms that redirect to PayPal.

    Chromium checks a redirect after a form POST against the submitting page's form-action, so only
    these pages name PayPal (or the emulator); every other page keeps form-action 'self'.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return allow_paypal_forms(view(request, *args, **kwargs))

    return wrapped


def allow_paypal_forms(response):
    """The same for one response: a page that shows a form leading to PayPal only sometimes ("Pay with PayPal")."""
    response._csp_update = {"form-action": [settings.PAYPAL_WEB_BASE_URL]}
    return response
