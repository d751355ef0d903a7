"""Site pages that belong to no single app: the home page, the help page, and the dashboard's wrapper."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts import views as account_views
from payouts.paypal.web import allow_paypal_forms
from sessions_app.payment_selectors import client_has_payment_due


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


def help_page(request):
    return render(request, "help.html")


def dashboard(request: HttpRequest) -> HttpResponse:
    """The account's dashboard; a client's may list "Pay with PayPal" forms, which lead to PayPal."""
    response = account_views.dashboard(request)
    if client_has_payment_due(client=request.user):
        allow_paypal_forms(response)
    return response
