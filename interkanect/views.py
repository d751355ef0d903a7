"""Site pages that belong to no single app: home, help, the dashboards (which show every app) and closing an account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import CloseAccountForm
from accounts.models import User
from accounts.selectors import sme_hosting_standing
from payouts.forms import PayPalEmailForm
from payouts.paypal.web import allow_paypal_forms
from payouts.selectors import sme_paypal_panel
from sessions_app.selectors import (
    client_has_payment_due,
    consultations_for_client,
    consultations_for_sme,
    earnings_for_sme,
    payments_for_client,
    sme_free_session_standing,
)

from .services import account_close


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


def help_page(request):
    return render(request, "help.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The SME's standing, free sessions, getting paid and consultations; a client's consultations."""
    user: User = request.user
    if not user.is_sme:
        response = render(
            request,
            "dashboard/client.html",
            {"lists": consultations_for_client(client=user), "payments": payments_for_client(client=user)},
        )
        # Its "Pay with PayPal" forms lead to PayPal.
        return allow_paypal_forms(response) if client_has_payment_due(client=user) else response
    profile = user.sme_profile
    paypal = sme_paypal_panel(profile=profile, request=request)
    return render(
        request,
        "dashboard/sme.html",
        {
            "profile": profile,
            "standing": sme_hosting_standing(user=user),
            "free_sessions": sme_free_session_standing(user=user),
            "paypal": paypal,
            "paypal_email_form": None if paypal.login_available else PayPalEmailForm(),
            "lists": consultations_for_sme(sme=user),
            "earnings": earnings_for_sme(sme=user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def close_account(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    form = CloseAccountForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        account_close(user=user, actor=user)
        logout(request)
        messages.success(
            request,
            "Your account is closed. Any balance you earned will still be paid out to your linked PayPal account.",
        )
        return redirect("home")
    return render(request, "accounts/close_account.html", {"form": form})
