"""Money pages: an SME's PayPal link (typed e-mail when Log in with PayPal is unavailable; disconnect)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import services
from .forms import PayPalEmailForm
from .selectors import paypal_login_available


def _sme_profile(request: HttpRequest):
    profile = getattr(request.user, "sme_profile", None) if request.user.is_sme else None
    if profile is None:
        raise PermissionDenied("Only experts (SMEs) link a PayPal account: it is where they are paid.")
    return profile


def _dashboard() -> HttpResponse:
    return redirect(reverse("dashboard") + "#paypal")


@login_required
@require_http_methods(["GET", "POST"])
def paypal_email(request: HttpRequest) -> HttpResponse:
    profile = _sme_profile(request)
    if paypal_login_available(request=request):
        # Offered only where Log in with PayPal is not: an address PayPal confirms beats a typed one.
        messages.info(request, "Use Connect PayPal: PayPal confirms the account your payouts go to.")
        return _dashboard()
    form = PayPalEmailForm(request.POST or None)
    replacing = profile.paypal_verified
    if request.method == "POST" and form.is_valid():
        try:
            services.sme_paypal_enter_email(
                profile=profile,
                email=form.cleaned_data["email"],
                actor=request.user,
                replace_verified=request.POST.get("replace_verified") == "yes",
            )
        except ValidationError as exc:
            form.add_error(None if getattr(exc, "code", None) == "replaces_verified" else "email", exc)
        else:
            messages.success(request, "Your PayPal e-mail address is saved: payouts go to it.")
            return _dashboard()
    return render(request, "payouts/paypal_email.html", {"form": form, "profile": profile, "replacing": replacing})


@login_required
@require_http_methods(["GET", "POST"])
def paypal_disconnect(request: HttpRequest) -> HttpResponse:
    profile = _sme_profile(request)
    if request.method == "GET":
        # The dashboard's "Disconnect PayPal…" leads here: it asks before payouts stop.
        if not profile.has_paypal:
            return _dashboard()
        return render(request, "payouts/paypal_disconnect.html", {"profile": profile})
    try:
        services.sme_paypal_disconnect(profile=profile, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "PayPal is disconnected. What you earn stays in your balance until you link one.")
    return _dashboard()
