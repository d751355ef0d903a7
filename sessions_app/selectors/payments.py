"""Reads about a consultation's money: its payment, the client's receipts and refunds, the SME's earnings."""

from __future__ import annotations

from django.db.models import Prefetch

from accounts.models import User

from ..models import Consultation, Payment, Refund

PState = Payment.State


def consultation_payment(*, consultation: Consultation) -> Payment | None:
    """The payment that says where the consultation's money stands: the live one, else the latest attempt."""
    return payment_that_counts(Payment.objects.filter(consultation=consultation).select_related("refund"))


def payment_that_counts(payments) -> Payment | None:
    """Of a consultation's payments (newest first, e.g. prefetched), the live one, else the latest attempt."""
    payments = list(payments)
    return next((p for p in payments if p.state in Payment.LIVE_STATES), payments[0] if payments else None)


def consultation_is_paid(*, consultation: Consultation) -> bool:
    """Whether its room may open as far as money goes: free, or its payment is captured."""
    return consultation.is_free or Payment.objects.filter(consultation=consultation, state=PState.CAPTURED).exists()


def payment_due(*, consultation: Consultation, user: User) -> bool:
    """Whether this user should be offered "Pay with PayPal" for it: its client, claimed, priced."""
    return (
        consultation.state == Consultation.State.CLAIMED
        and not consultation.is_free
        and user.is_authenticated
        and consultation.client_id == user.pk
    )


def client_has_payment_due(*, client: User) -> bool:
    """Whether the client's dashboard lists a consultation to pay (and so a form leading to PayPal)."""
    return (
        client.is_authenticated
        and Consultation.objects.filter(client=client, state=Consultation.State.CLAIMED, price_cents__gt=0).exists()
    )


def payments_for_client(*, client: User) -> list[Payment]:
    """The client's payments that took money (captured, with any refund), newest first: receipts and refunds."""
    return list(
        Payment.objects.filter(client=client, state__in=(PState.CAPTURED, PState.PENDING))
        .select_related("consultation__sme__sme_profile", "refund")
        .order_by("-created_at")[:50]
    )


def earnings_for_sme(*, sme: User) -> list[Payment]:
    """The SME's paid consultations that completed, with price, platform fee and what they were credited."""
    return list(
        Payment.objects.filter(consultation__sme=sme, state=PState.CAPTURED, earning_cents__isnull=False)
        .select_related("consultation__client", "refund")
        .order_by("-captured_at")[:50]
    )


def refunds_open() -> list[Refund]:
    return list(Refund.objects.filter(state__in=Refund.OPEN_STATES).select_related("payment"))


def payments_prefetch() -> Prefetch:
    """For consultation lists: each consultation's payments (with refunds), newest first."""
    return Prefetch("payments", queryset=Payment.objects.select_related("refund").order_by("-created_at"))
