"""Money pages: unlinking an SME's PayPal account. Linking one (Connect PayPal, or the typed address) is
composed at the project level (interkanect.paypal_link), since it may open a review case in sessions_app."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import services


def sme_profile_or_403(request: HttpRequest):
    profile = getattr(request.user, "sme_profile", None) if request.user.is_sme else None
    if profile is None:
        raise PermissionDenied("Only experts (SMEs) link a PayPal account: it is where they are paid.")
    return profile


def paypal_on_dashboard() -> HttpResponse:
    return redirect(reverse("dashboard") + "#paypal")


@login_required
@require_http_methods(["GET", "POST"])
def paypal_disconnect(request: HttpRequest) -> HttpResponse:
    profile = sme_profile_or_403(request)
    if request.method == "GET":
        # The dashboard's "Disconnect PayPal…" leads here: it asks before payouts stop.
        if not profile.has_paypal:
            return paypal_on_dashboard()
        return render(request, "payouts/paypal_disconnect.html", {"profile": profile})
    try:
        services.sme_paypal_disconnect(profile=profile, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "PayPal is disconnected. What you earn stays in your balance until you link one.")
    return paypal_on_dashboard()
