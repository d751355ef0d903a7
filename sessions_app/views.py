"""Consultation pages: create, the join link (claim), cancel, the calendar file, and paying through PayPal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.selectors import sme_hosting_standing
from accounts.services import user_time_zone_set
from payouts.paypal.web import allow_paypal_forms, paypal_form_action

from . import services
from .forms import ConsultationCancelForm, ConsultationCreateForm
from .ics import consultation_ics, consultation_ics_filename
from .models import Consultation, Payment
from .selectors import consultation_by_token, consultation_can_cancel, consultation_payment, payment_due
from .services import payments

# Service error fields → form fields.
FORM_FIELDS = {"price_cents": "price"}


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "sessions_app/link_not_found.html", status=404)


@login_required
@require_http_methods(["GET", "POST"])
def consultation_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    standing = sme_hosting_standing(user=user)
    if not standing.allowed:
        return render(request, "sessions_app/cannot_create.html", {"standing": standing}, status=403)
    form = ConsultationCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consultation = services.consultation_create(
                sme=user,
                title=data["title"],
                agreed_minutes=data["agreed_minutes"],
                price_cents=data["price"],
                scheduled_start=data["scheduled_start"],
                scheduled_tz=data["tz"],
                creation_key=data["creation_key"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                field = FORM_FIELDS.get(field, field)
                form.add_error(field if field in form.fields else None, errors)
        except services.ConsultationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your consultation is ready to share: copy its link and send it to your client.")
            return redirect(consultation)
    return render(request, "sessions_app/new.html", {"form": form})


def consultation_join(request: HttpRequest, token: str) -> HttpResponse:
    """The join link: one page that says, for whoever opens it, what they can do next."""
    consultation = consultation_by_token(token=token)
    if consultation is None:
        return _not_found(request)
    user = request.user
    context = {"consultation": consultation, "profile": getattr(consultation.sme, "sme_profile", None)}
    if not user.is_authenticated:
        back = {"next": consultation.get_absolute_url()}
        context["login_url"] = f"{reverse('account_login')}?{urlencode(back)}"
        context["signup_url"] = f"{reverse('account_signup')}?{urlencode({'role': User.Role.CLIENT, **back})}"
        return render(request, "sessions_app/join_anonymous.html", context)
    role = consultation.member_role(user)
    if role is not None:
        context.update(role=role, can_cancel=consultation_can_cancel(consultation=consultation, user=user))
        # Whether the consultation's expert may host: the SME reads why not, the client that the room is closed.
        context["standing"] = sme_hosting_standing(user=consultation.sme)
        context["payment"] = consultation_payment(consultation=consultation)
        response = render(request, "sessions_app/consultation.html", context)
        # Its "Pay with PayPal" form leads to PayPal.
        return allow_paypal_forms(response) if payment_due(consultation=consultation, user=user) else response
    if consultation.client_id is not None:
        return render(request, "sessions_app/belongs_to_someone_else.html", context, status=403)
    if consultation.is_closed:
        return render(request, "sessions_app/join_closed.html", context, status=410)
    context["can_claim"] = user.is_client
    return render(request, "sessions_app/join_claim.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consultation_claim(request: HttpRequest, token: str) -> HttpResponse:
    consultation = consultation_by_token(token=token)
    if consultation is None:
        return _not_found(request)
    if request.method == "GET":
        # Logging in after a POST from a logged-out tab comes back here with a GET: show the claim button again.
        return redirect(consultation)
    try:
        # The client's own time zone first, so the "claimed" e-mail already shows times in it.
        user_time_zone_set(user=request.user, time_zone=request.POST.get("time_zone", ""))
        services.consultation_claim(consultation=consultation, client=request.user)
    except services.ConsultationError as exc:
        if exc.code == "taken":
            context = {"consultation": consultation, "profile": getattr(consultation.sme, "sme_profile", None)}
            return render(request, "sessions_app/belongs_to_someone_else.html", context, status=403)
        messages.error(request, exc.message)
        return redirect(consultation)
    if consultation.state == Consultation.State.READY:
        messages.success(request, "It's yours. The room is open: enter it at the agreed time.")
    else:
        messages.success(request, "It's yours. The room opens once it is paid.")
    return redirect(consultation)


@login_required
@require_http_methods(["GET", "POST"])
def consultation_cancel(request: HttpRequest, token: str) -> HttpResponse:
    consultation = consultation_by_token(token=token)
    if consultation is None or consultation.member_role(request.user) is None:
        return _not_found(request)
    form = ConsultationCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.consultation_cancel(
                consultation=consultation, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except services.ConsultationError as exc:
            messages.error(request, exc.message)
            return redirect(consultation)
        messages.success(
            request,
            "The consultation is cancelled; we told the other person by e-mail."
            if done
            else "The consultation was already cancelled.",
        )
        return redirect("dashboard")
    if consultation.is_closed:
        # A "Cancel…" link from another tab or an old page, after it was cancelled (or ended) already.
        messages.info(request, f"This consultation is already {consultation.get_state_display().lower()}.")
        return redirect(consultation)
    if not consultation_can_cancel(consultation=consultation, user=request.user):
        messages.error(
            request,
            "You can no longer cancel this consultation: a client can cancel only while it waits for payment, "
            "the expert until the call has started.",
        )
        return redirect(consultation)
    return render(request, "sessions_app/cancel.html", {"consultation": consultation, "form": form})


@login_required
def consultation_calendar(request: HttpRequest, token: str) -> HttpResponse:
    consultation = consultation_by_token(token=token)
    if consultation is None or consultation.member_role(request.user) is None or consultation.scheduled_start is None:
        return _not_found(request)
    # Downloaded again after a cancellation (an old page, the other tab), it removes the entry instead.
    cancelled = consultation.state == Consultation.State.CANCELLED
    response = HttpResponse(
        consultation_ics(consultation, cancelled=cancelled), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{consultation_ics_filename(consultation)}"'
    return response


# --- Paying a priced consultation through PayPal ---


def _client_consultation(request: HttpRequest, token: str) -> Consultation | None:
    consultation = consultation_by_token(token=token)
    if consultation is None or consultation.client_id != request.user.pk:
        return None
    return consultation


def _say(request: HttpRequest, outcome: payments.PaymentOutcome) -> None:
    level = {"success": messages.SUCCESS, "warning": messages.WARNING, "error": messages.ERROR}
    messages.add_message(request, level.get(outcome.level, messages.INFO), outcome.message)


@login_required
@require_http_methods(["POST"])
@paypal_form_action
def payment_start(request: HttpRequest, token: str) -> HttpResponse:
    """ "Pay with PayPal": the client's browser goes to PayPal to approve the order."""
    consultation = _client_consultation(request, token)
    if consultation is None:
        return _not_found(request)
    try:
        payment = payments.payment_start(
            consultation=consultation, client=request.user, base_url=request.build_absolute_uri("/")
        )
    except payments.PaymentError as exc:
        messages.error(request, exc.message)
        return redirect(consultation)
    if payment.state == Payment.State.APPROVAL:
        return redirect(payment.approve_url)
    _say(request, payments.payment_outcome(payment=payment))
    return redirect(consultation)


@login_required
@require_http_methods(["GET"])
def payment_return(request: HttpRequest, token: str) -> HttpResponse:
    """PayPal sends the client back here after they approved: ?token=<order id>&PayerID=…"""
    consultation = _client_consultation(request, token)
    if consultation is None:
        return _not_found(request)
    outcome = payments.payment_capture(
        consultation=consultation, order_id=request.GET.get("token", ""), client=request.user
    )
    _say(request, outcome)
    return redirect(consultation)


@login_required
@require_http_methods(["GET"])
def payment_cancelled(request: HttpRequest, token: str) -> HttpResponse:
    """PayPal sends the client back here after they chose Cancel."""
    consultation = _client_consultation(request, token)
    if consultation is None:
        return _not_found(request)
    outcome = payments.payment_cancelled_at_paypal(
        consultation=consultation, order_id=request.GET.get("token", ""), client=request.user
    )
    _say(request, outcome)
    return redirect(consultation)
