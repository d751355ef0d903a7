"""Linking an SME's PayPal account, composed across apps: payouts stores the link (one open SME account
per PayPal account), sessions_app opens a review case when the account is, or was, a disqualified SME's.

payouts knows only accounts, so it cannot open that case itself; these entry points sit above both.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from payouts.forms import PayPalEmailForm
from payouts.paypal.login.adapter import PayPalLinkAdapter as PayoutsPayPalLinkAdapter
from payouts.selectors import paypal_login_available
from payouts.views import paypal_on_dashboard, sme_profile_or_403
from sessions_app.services import sme_paypal_link


class PayPalLinkAdapter(PayoutsPayPalLinkAdapter):
    """settings.SOCIALACCOUNT_ADAPTER: Connect PayPal, with the shared-account review."""

    def link_paypal(self, *, profile, email: str, payer_id: str, actor) -> None:
        sme_paypal_link(profile=profile, email=email, payer_id=payer_id, verified=True, actor=actor)


@login_required
@require_http_methods(["GET", "POST"])
def paypal_email(request: HttpRequest) -> HttpResponse:
    """The PayPal address an SME types when Log in with PayPal is unavailable (unverified)."""
    profile = sme_profile_or_403(request)
    if paypal_login_available(request=request):
        # Offered only where Log in with PayPal is not: an address PayPal confirms beats a typed one.
        messages.info(request, "Use Connect PayPal: PayPal confirms the account your payouts go to.")
        return paypal_on_dashboard()
    form = PayPalEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sme_paypal_link(
                profile=profile,
                email=form.cleaned_data["email"],
                verified=False,
                actor=request.user,
                replace_verified=request.POST.get("replace_verified") == "yes",
            )
        except ValidationError as exc:
            form.add_error(None if getattr(exc, "code", None) == "replaces_verified" else "email", exc)
        else:
            messages.success(request, "Your PayPal e-mail address is saved: payouts go to it.")
            return paypal_on_dashboard()
    context = {"form": form, "profile": profile, "replacing": profile.paypal_verified}
    return render(request, "payouts/paypal_email.html", context)
