"""Refunds of paid consultations and the SME's earning when one completes: every write to that money.

A refund row is written in the transaction that decides it (a cancellation, an expiry, staff); PayPal is
asked after the commit, and again by housekeeping until it answers. Each send is claimed by a conditional
UPDATE and carries a request id from the row (and its round), so PayPal refunds once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from payouts.models import LedgerEntry
from payouts.paypal.gateway import PayPalError, PayPalUnavailable, RefundResult, get_gateway
from payouts.services import LedgerError, ledger_credit_earning, ledger_reverse_earning
from payouts.templatetags.money import money

from ..models import Consultation, Payment, Refund
from ..notifications import consultation_notify_on_commit

logger = logging.getLogger(__name__)

State = Consultation.State
PState = Payment.State
RState = Refund.State

# A capture or refund sent this long ago without an answer recorded is stale: its sender died or gave up,
# and another may send the same request again (with the same request id, so PayPal acts once).
CLAIM_STALE_AFTER = timedelta(minutes=2)
NOT_CHARGED = "Nothing was charged."


class PaymentError(Exception):
    """A payment or refund that cannot go ahead now; the message says why and what to do next."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def payment_audit(event: str, *, actor: User | None, payment: Payment, **data) -> None:
    audit_record(
        event=event,
        actor=actor,
        subject=payment.consultation.sme,
        target=payment,
        data={"consultation": payment.consultation_id, "amount_cents": payment.amount_cents, **data},
    )


def amount_text(payment: Payment) -> str:
    return money(payment.amount_cents, payment.currency)


# --- Refunds ---


def refund_reason_for(consultation: Consultation) -> str:
    if consultation.state == State.EXPIRED:
        return Refund.Reason.EXPIRED
    return Refund.Reason.CANCELLED


def refund_open(payment: Payment, *, reason: str, actor: User | None, note: str = "") -> Refund:
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                payment=payment,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
                reason=reason,
                note=note[:200],
                requested_by=actor,
            )
    except IntegrityError:
        return Refund.objects.get(payment=payment)  # decided already: each refund happens once
    payment_audit("refund.requested", actor=actor, payment=payment, reason=reason)
    refund_id = refund.pk
    transaction.on_commit(lambda: refund_send(refund_id=refund_id), robust=True)
    return refund


def consultation_refund_on_close(
    *, consultation: Consultation, reason: str, actor: User | None = None
) -> Refund | None:
    """In the transaction that cancels or expires a consultation: refund what was paid, drop what was not.

    A capture in flight or held by PayPal is refunded once it completes (payment_apply_order sees the
    consultation closed); an order the client has not approved is simply never captured.
    """
    payment = (
        Payment.objects.select_for_update()
        .select_related("consultation__sme")
        .filter(consultation=consultation, state__in=Payment.LIVE_STATES)
        .first()
    )
    if payment is None:
        return None
    if payment.state == PState.CAPTURED:
        return refund_open(payment, reason=reason, actor=actor)
    if payment.state in (PState.CREATED, PState.APPROVAL):
        Payment.objects.filter(pk=payment.pk, state=payment.state).update(
            state=PState.ABANDONED, paypal_reason=f"consultation {consultation.state}"
        )
    return None


def refund_send(*, refund_id: int) -> Refund:
    """Send the refund to PayPal (after the commit that decided it, and from housekeeping until PayPal answers)."""
    now = timezone.now()
    claimed = (
        Refund.objects.filter(pk=refund_id)
        .filter(Q(state=RState.REQUESTED) | Q(state=RState.SENDING, last_attempt_at__lt=now - CLAIM_STALE_AFTER))
        .update(state=RState.SENDING, last_attempt_at=now, attempts=F("attempts") + 1)
    )
    refund = Refund.objects.select_related("payment__consultation__sme").get(pk=refund_id)
    if not claimed:
        return refund  # sent by someone else just now, or done
    payment = refund.payment
    try:
        result = get_gateway().refund_capture(
            capture_id=payment.capture_id,
            request_id=refund.request_id(),
            invoice_id=f"interkanect-refund-{refund.pk}",
            note_to_payer=f"Refund: {refund.get_reason_display()}.",
        )
    except PayPalUnavailable as error:
        Refund.objects.filter(pk=refund.pk, state=RState.SENDING).update(
            state=RState.REQUESTED, paypal_error=str(error)[:200]
        )
        refund.refresh_from_db()
        return refund
    except PayPalError as error:
        with transaction.atomic():
            Refund.objects.filter(pk=refund.pk, state=RState.SENDING).update(
                state=RState.FAILED, paypal_error=(error.name or str(error))[:200]
            )
            refund.refresh_from_db()
            payment_audit(
                "refund.failed", actor=None, payment=payment, refund=refund.pk, paypal_error=refund.paypal_error
            )
        logger.warning("PayPal refused refund %s: %s", refund.pk, error)
        return refund
    return refund_apply(refund=refund, result=result)


@transaction.atomic
def refund_apply(*, refund: Refund, result: RefundResult) -> Refund:
    locked = Refund.objects.select_for_update().select_related("payment__consultation__sme").get(pk=refund.pk)
    if locked.state not in (RState.SENDING, RState.PENDING):
        return locked
    locked.refund_id = result.refund_id
    if result.status == "COMPLETED":
        locked.state = RState.COMPLETED
        locked.completed_at = timezone.now()
        locked.paypal_error = ""
        locked.save(update_fields=["refund_id", "state", "completed_at", "paypal_error"])
        payment_audit(
            "refund.completed", actor=None, payment=locked.payment, refund=locked.pk, refund_id=result.refund_id
        )
        consultation_notify_on_commit(consultation=locked.payment.consultation, kind="refunded")
    elif result.status == "PENDING":
        locked.state = RState.PENDING
        locked.paypal_error = result.reason
        locked.save(update_fields=["refund_id", "state", "paypal_error"])
    else:  # FAILED, CANCELLED
        locked.state = RState.FAILED
        locked.paypal_error = f"PayPal reported the refund {result.status}"
        locked.save(update_fields=["refund_id", "state", "paypal_error"])
        payment_audit(
            "refund.failed", actor=None, payment=locked.payment, refund=locked.pk, paypal_error=locked.paypal_error
        )
    return locked


def refunds_send_due(*, now=None) -> int:
    """Send refunds PayPal has not answered yet; read PENDING ones until they complete. Count completed."""
    now = now or timezone.now()
    due = Refund.objects.filter(
        Q(state=RState.REQUESTED) | Q(state=RState.SENDING, last_attempt_at__lt=now - CLAIM_STALE_AFTER)
    )
    completed = 0
    for refund_id in list(due.values_list("pk", flat=True)):
        completed += refund_send(refund_id=refund_id).state == RState.COMPLETED
    for refund in Refund.objects.filter(state=RState.PENDING).exclude(refund_id=""):
        try:
            result = get_gateway().get_refund(refund_id=refund.refund_id)
        except PayPalError as error:
            logger.warning("Could not read refund %s: %s", refund.pk, error)
            continue
        completed += refund_apply(refund=refund, result=result).state == RState.COMPLETED
    return completed


@transaction.atomic
def refund_retry(*, refund: Refund, actor: User) -> Refund:
    """Staff ask PayPal again for a refund it refused: a new round, so a new request id."""
    if not actor.is_staff:
        raise PaymentError("Only staff can retry a refund.", code="not_staff")
    done = Refund.objects.filter(pk=refund.pk, state=RState.FAILED).update(
        state=RState.REQUESTED, round=F("round") + 1, paypal_error=""
    )
    refund.refresh_from_db()
    if not done:
        raise PaymentError(f"This refund is {refund.get_state_display().lower()}: only a refused one is retried.")
    payment_audit("refund.retried", actor=actor, payment=refund.payment, refund=refund.pk, round=refund.round)
    refund_id = refund.pk
    transaction.on_commit(lambda: refund_send(refund_id=refund_id), robust=True)
    return refund


@transaction.atomic
def consultation_refund_by_staff(*, consultation: Consultation, actor: User, note: str) -> Refund:
    """Staff refund a paid consultation that completed (a complaint, say): the SME's earning is reversed."""
    if not actor.is_staff:
        raise PaymentError("Only staff can refund a completed consultation.", code="not_staff")
    note = (note or "").strip()
    if not note:
        raise PaymentError("Say why it is refunded; the expert's earnings history shows it.", code="no_reason")
    locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if locked.state != State.COMPLETED:
        raise PaymentError("Only a completed consultation is refunded this way; cancel an open one instead.")
    payment = (
        Payment.objects.select_related("consultation__sme").filter(consultation=locked, state=PState.CAPTURED).first()
    )
    if payment is None:
        raise PaymentError("This consultation has no captured payment to refund.", code="not_paid")
    if hasattr(payment, "refund"):
        raise PaymentError("It is refunded already.", code="refunded")
    refund = refund_open(payment, reason=Refund.Reason.STAFF, actor=actor, note=note)
    source_key = f"consultation:{locked.pk}"
    if LedgerEntry.objects.filter(idempotency_key=f"earning:{source_key}").exists():
        ledger_reverse_earning(
            source_key=source_key, reason=f"Refunded to the client by staff: {note}"[:500], actor=actor
        )
    return refund


# --- The SME's earning, when a paid consultation completes ---


def platform_fee_cents(amount_cents: int) -> int:
    """The platform's fee: PLATFORM_FEE_PERCENT of the amount, rounded down to the cent (in the SME's favour)."""
    fee = Decimal(amount_cents) * Decimal(str(settings.PLATFORM_FEE_PERCENT)) / 100
    return int(fee.to_integral_value(rounding=ROUND_DOWN))


def consultation_credit_earning(*, consultation: Consultation) -> LedgerEntry | None:
    """Credit the SME with the captured amount less the platform fee; once (the ledger key is the consultation).

    Called inside the transaction that completes the consultation, so the two commit together. One without
    a captured payment (the money never came in), or refunded, earns nothing: None.
    """
    if consultation.state != State.COMPLETED:
        raise LedgerError("Only a completed consultation earns its SME a credit.")
    if consultation.is_free:
        raise LedgerError("A free consultation earns nothing to credit.")
    payment = (
        Payment.objects.select_for_update()
        .filter(consultation=consultation, state=PState.CAPTURED)
        .exclude(pk__in=Refund.objects.values("payment_id"))  # refunded: nothing earned
        .first()
    )
    if payment is None:
        return None
    fee = platform_fee_cents(payment.amount_cents)
    earning = payment.amount_cents - fee
    Payment.objects.filter(pk=payment.pk).update(platform_fee_cents=fee, earning_cents=earning)
    if earning <= 0:
        return None  # a 100% fee: nothing to credit
    return ledger_credit_earning(
        account=consultation.sme,
        amount_cents=earning,
        currency=payment.currency,
        source_key=f"consultation:{consultation.pk}",
    )


def refund_sentence(refund: Refund) -> str:
    amount = amount_text(refund.payment)
    if refund.state == RState.COMPLETED:
        return f"Refunded: {amount} went back to your PayPal account."
    if refund.state == RState.FAILED:
        return f"Your refund of {amount} is delayed: PayPal refused it for now, and our staff are on it."
    return f"Your refund of {amount} is on its way to your PayPal account."
