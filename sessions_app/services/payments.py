"""Checkout: a client's PayPal payment of a priced consultation (Orders v2), from the order to its capture.

PayPal is never called inside a transaction. Each outside call is preceded by a committed row whose id
makes the PayPal-Request-Id, and is claimed first by a conditional UPDATE (one sender at a time, until
the claim is stale), so a replayed return, two tabs, a timeout or a second housekeeping run repeat the
same request at most, and PayPal answers a repeat with its first answer: one capture.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import sme_hosting_standing
from payouts.paypal.gateway import OrderResult, PayPalDeclined, PayPalError, PayPalUnavailable, get_gateway

from ..models import Consultation, Payment
from .lifecycle import consultation_mark_ready
from .refunds import (
    CLAIM_STALE_AFTER,
    NOT_CHARGED,
    PaymentError,
    amount_text,
    payment_audit,
    refund_open,
    refund_reason_for,
    refund_sentence,
)

logger = logging.getLogger(__name__)

State = Consultation.State
PState = Payment.State

UNAVAILABLE = "PayPal is not answering just now."
ORDER_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class PaymentOutcome:
    """What a return from PayPal came to, for the page: a code for tests and code, a sentence for people."""

    code: str  # paid, pending, declined, not_approved, unavailable, confirming, cancelled, closed, wrong_order
    message: str
    level: str = "info"  # success, info, warning, error


def _stale(now) -> Q:
    return Q(capture_started_at__isnull=True) | Q(capture_started_at__lt=now - CLAIM_STALE_AFTER)


# --- Starting a payment ---


@dataclass(frozen=True)
class PaymentUrls:
    return_url: str
    cancel_url: str


def payment_urls(*, consultation: Consultation, base_url: str) -> PaymentUrls:
    """Where PayPal sends the client back: base_url is the site's origin as the client reached it."""
    base = base_url.rstrip("/")
    return PaymentUrls(
        return_url=base + reverse("payment_return", args=[consultation.token]),
        cancel_url=base + reverse("payment_cancelled", args=[consultation.token]),
    )


def _payable_problem(consultation: Consultation, client: User) -> PaymentError | None:
    if consultation.client_id != client.pk:
        return PaymentError("Only the client who claimed this consultation pays for it.", code="not_client")
    if consultation.is_free:
        return PaymentError("This consultation is free: there is nothing to pay.", code="free")
    if consultation.state != State.CLAIMED:
        if consultation.state in Consultation.ROOM_STATES:
            return PaymentError("It is paid already: the room is open.", code="paid")
        return PaymentError(
            f"This consultation is {consultation.get_state_display().lower()}: it can no longer be paid. "
            + NOT_CHARGED,
            code="closed",
        )
    if not sme_hosting_standing(user=consultation.sme).allowed:
        return PaymentError(
            "The expert can no longer host this consultation, so it cannot be paid. " + NOT_CHARGED,
            code="sme_not_allowed",
        )
    return None


def payment_start(*, consultation: Consultation, client: User, base_url: str) -> Payment:
    """The client's payment of a claimed priced consultation, with an order at PayPal to approve.

    Returns the live payment: in APPROVAL (send the client to approve_url), or already further along.
    A second click (another tab) gets the same payment and order, never a second one.
    """
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        problem = _payable_problem(locked, client)
        if problem is not None:
            raise problem
        payment = Payment.objects.filter(consultation=locked, state__in=Payment.LIVE_STATES).first()
        if payment is None:
            urls = payment_urls(consultation=locked, base_url=base_url)
            payment = Payment.objects.create(
                consultation=locked,
                client=client,
                amount_cents=locked.price_cents,
                currency=locked.currency,
                return_url=urls.return_url,
                cancel_url=urls.cancel_url,
            )
            payment_audit("payment.started", actor=client, payment=payment)
    if payment.state != PState.CREATED:
        return payment
    # No order yet (or PayPal's answer was lost): create it; a repeat of the same request id gets the same order.
    try:
        order = get_gateway().create_order(
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            description=f"Consultation: {locked.title}",
            reference_id=f"consultation-{locked.pk}",
            invoice_id=f"interkanect-payment-{payment.pk}",
            return_url=payment.return_url,
            cancel_url=payment.cancel_url,
            request_id=payment.request_id("create"),
            brand_name=settings.SITE_NAME,
        )
    except PayPalUnavailable:
        raise PaymentError(f"{UNAVAILABLE} Try again in a minute. {NOT_CHARGED}", code="unavailable") from None
    except PayPalError as error:
        Payment.objects.filter(pk=payment.pk, state=PState.CREATED).update(
            state=PState.FAILED, paypal_reason=error.name[:80]
        )
        logger.warning("PayPal refused to create the order of payment %s: %s", payment.pk, error)
        raise PaymentError(
            f"PayPal refused to start this payment. {NOT_CHARGED} Try again, or write to us if it happens again.",
            code="refused",
        ) from None
    Payment.objects.filter(pk=payment.pk, state=PState.CREATED).update(
        state=PState.APPROVAL, order_id=order.order_id, approve_url=order.approve_url
    )
    payment.refresh_from_db()
    return payment


# --- The client comes back from PayPal ---


def payment_cancelled_at_paypal(*, consultation: Consultation, order_id: str, client: User) -> PaymentOutcome:
    """The client chose Cancel on PayPal's page: the order is dropped, the consultation stays claimed and unpaid."""
    if consultation.client_id != client.pk:
        return PaymentOutcome("wrong_order", "This payment is not yours.", "error")
    if not ORDER_ID_SHAPE.fullmatch(order_id or ""):
        order_id = "-"  # matches no order
    done = Payment.objects.filter(
        consultation=consultation, order_id=order_id, state__in=(PState.CREATED, PState.APPROVAL)
    ).update(state=PState.ABANDONED, paypal_reason="cancelled by the client at PayPal")
    if done:
        payment = Payment.objects.select_related("consultation__sme").get(order_id=order_id)
        payment_audit("payment.cancelled_at_paypal", actor=client, payment=payment)
    return PaymentOutcome(
        "cancelled",
        f"You cancelled at PayPal. {NOT_CHARGED} The room opens once it is paid: pay with PayPal when you are ready.",
        "warning",
    )


def payment_capture(*, consultation: Consultation, order_id: str, client: User) -> PaymentOutcome:
    """The client approved at PayPal and came back: capture the order, once, and open the room."""
    # A forged or mangled return (a NUL byte is an error on PostgreSQL, not a miss) never reaches the database.
    payment = (
        Payment.objects.select_related("consultation").filter(order_id=order_id).first()
        if ORDER_ID_SHAPE.fullmatch(order_id or "")
        else None
    )
    if payment is None or payment.consultation_id != consultation.pk or consultation.client_id != client.pk:
        # Another consultation's order (or none): never captured from here.
        return PaymentOutcome(
            "wrong_order",
            "That PayPal payment is not the one for this consultation, so it was not taken. "
            "Pay with PayPal on this page to open the room.",
            "error",
        )
    return _capture(payment, actor=client)


def payment_outcome(*, payment: Payment) -> PaymentOutcome:
    """Where a payment stands, said to its client."""
    amount = amount_text(payment)
    if payment.state == PState.CAPTURED:
        if hasattr(payment, "refund"):
            return PaymentOutcome("refunded", refund_sentence(payment.refund), "info")
        return PaymentOutcome("paid", f"Paid: {amount}. The room is open. We e-mailed you the receipt.", "success")
    if payment.state == PState.PENDING:
        return PaymentOutcome(
            "pending",
            f"PayPal is reviewing your payment of {amount}. The room opens as soon as PayPal approves it; "
            "we e-mail you both then. If PayPal declines it, nothing is charged.",
            "info",
        )
    if payment.state == PState.CAPTURING:
        return PaymentOutcome(
            "confirming",
            f"We are confirming your payment of {amount} with PayPal; this page shows it in a moment.",
            "info",
        )
    if payment.state == PState.DECLINED:
        return PaymentOutcome(
            "declined",
            f"PayPal declined that payment method; try again. {NOT_CHARGED} "
            "Choose Pay with PayPal again and pick another card or account.",
            "error",
        )
    consultation = payment.consultation
    if payment.state in Payment.UNCHARGED_STATES and consultation.is_closed:
        return PaymentOutcome(
            "closed",
            f"This consultation is {consultation.get_state_display().lower()}, so the payment was not taken. "
            + NOT_CHARGED,
            "warning",
        )
    if payment.state == PState.APPROVAL:
        return PaymentOutcome(
            "not_approved",
            f"PayPal has not approved the payment yet. {NOT_CHARGED} Pay with PayPal to finish.",
            "warning",
        )
    return PaymentOutcome("cancelled", f"This payment did not go through. {NOT_CHARGED}", "warning")


def _capture(payment: Payment, *, actor: User | None, now=None) -> PaymentOutcome:
    now = now or timezone.now()
    consultation = Consultation.objects.get(pk=payment.consultation_id)
    if payment.state in (PState.APPROVAL, PState.CREATED) and consultation.state != State.CLAIMED:
        # Cancelled or expired while the client was at PayPal: the order is left uncaptured.
        Payment.objects.filter(pk=payment.pk, state__in=(PState.CREATED, PState.APPROVAL)).update(
            state=PState.ABANDONED, paypal_reason=f"consultation {consultation.state}"
        )
        return PaymentOutcome(
            "closed",
            f"This consultation is {consultation.get_state_display().lower()}, so the payment was not taken. "
            + NOT_CHARGED,
            "warning",
        )
    claimed = (
        Payment.objects.filter(pk=payment.pk)
        .filter(Q(state=PState.APPROVAL) | (Q(state=PState.CAPTURING) & _stale(now)))
        .update(state=PState.CAPTURING, capture_started_at=now)
    )
    if not claimed:
        # Captured, pending, declined already, or another request (a second tab) is capturing it now.
        payment.refresh_from_db()
        return payment_outcome(payment=payment)
    gateway = get_gateway()
    try:
        result = gateway.capture_order(order_id=payment.order_id, request_id=payment.request_id("capture"))
    except PayPalDeclined as error:
        return _declined(payment, error.name or "DECLINED")
    except PayPalUnavailable:
        # PayPal may have captured it: the claim goes stale, then a return or housekeeping asks again with
        # the same request id, and PayPal answers with its first capture.
        return PaymentOutcome(
            "unavailable",
            f"{UNAVAILABLE} We check your payment again in a few minutes and e-mail you when the room opens; "
            "you will not be charged twice.",
            "warning",
        )
    except PayPalError as error:
        if error.name == "ORDER_ALREADY_CAPTURED":
            try:
                result = gateway.get_order(order_id=payment.order_id)
            except PayPalError:
                return PaymentOutcome("unavailable", f"{UNAVAILABLE} We check your payment again shortly.", "warning")
        elif error.name == "ORDER_NOT_APPROVED":
            Payment.objects.filter(pk=payment.pk, state=PState.CAPTURING).update(
                state=PState.APPROVAL, capture_started_at=None
            )
            payment.refresh_from_db()
            return payment_outcome(payment=payment)
        else:
            logger.warning("PayPal refused the capture of payment %s: %s", payment.pk, error)
            return _declined(payment, error.name or "REFUSED")
    return payment_apply_order(payment=payment, order=result, actor=actor)


def _declined(payment: Payment, reason: str) -> PaymentOutcome:
    Payment.objects.filter(pk=payment.pk, state=PState.CAPTURING).update(
        state=PState.DECLINED, paypal_reason=reason[:80], capture_started_at=None
    )
    payment.refresh_from_db()
    payment_audit("payment.declined", actor=None, payment=payment, reason=reason)
    return payment_outcome(payment=payment)


@transaction.atomic
def payment_apply_order(*, payment: Payment, order: OrderResult, actor: User | None = None) -> PaymentOutcome:
    """Record what PayPal says of the order's capture; a COMPLETED capture opens the room. Idempotent."""
    locked = Payment.objects.select_for_update().select_related("consultation").get(pk=payment.pk)
    capture = order.capture
    if locked.state not in (PState.CAPTURING, PState.PENDING) or capture is None:
        return payment_outcome(payment=locked)
    consultation = Consultation.objects.select_for_update().get(pk=locked.consultation_id)
    locked.consultation = consultation
    locked.capture_id = capture.capture_id
    locked.paypal_status = capture.status
    locked.paypal_reason = capture.reason[:80]
    locked.payer_id = order.payer_id[:32]
    locked.capture_started_at = None
    fields = ["capture_id", "paypal_status", "paypal_reason", "payer_id", "capture_started_at", "state"]
    if capture.status == "COMPLETED":
        if (capture.amount_cents, capture.currency) != (locked.amount_cents, locked.currency):
            # PayPal captured what the order said; a difference is a bug to look at, not a reason to lose it.
            logger.error("Payment %s captured %s %s", locked.pk, capture.amount_cents, capture.currency)
        locked.state = PState.CAPTURED
        locked.captured_at = timezone.now()
        locked.paypal_fee_cents = capture.paypal_fee_cents
        locked.net_cents = capture.net_cents
        locked.save(update_fields=[*fields, "captured_at", "paypal_fee_cents", "net_cents"])
        payment_audit(
            "payment.captured",
            actor=actor,
            payment=locked,
            capture_id=capture.capture_id,
            paypal_fee_cents=capture.paypal_fee_cents,
        )
        if consultation.state == State.CLAIMED:
            # Its e-mails say the room is open; the client's is the receipt.
            consultation_mark_ready(consultation=consultation, actor=actor)
        else:
            # Cancelled or expired while PayPal captured it: the money goes back.
            refund_open(locked, reason=refund_reason_for(consultation), actor=None)
        return payment_outcome(payment=locked)
    if capture.status == "PENDING":
        locked.state = PState.PENDING
        locked.save(update_fields=fields)
        payment_audit("payment.pending", actor=actor, payment=locked, reason=capture.reason)
        return payment_outcome(payment=locked)
    locked.state = PState.DECLINED  # DECLINED, FAILED: nothing was taken
    locked.save(update_fields=fields)
    payment_audit("payment.declined", actor=actor, payment=locked, reason=capture.status)
    return payment_outcome(payment=locked)


# --- Housekeeping: captures PayPal holds, and captures whose answer never came ---


def payments_resolve_due(*, now=None) -> int:
    """Read PENDING orders until PayPal resolves them; capture again those whose answer was lost. Count changed."""
    now = now or timezone.now()
    changed = 0
    gateway = get_gateway()
    for payment in Payment.objects.filter(state=PState.PENDING):
        try:
            order = gateway.get_order(order_id=payment.order_id)
        except PayPalError as error:
            logger.warning("Could not read the order of payment %s: %s", payment.pk, error)
            continue
        before = payment.state
        payment_apply_order(payment=payment, order=order)
        payment.refresh_from_db()
        changed += payment.state != before
    for payment in Payment.objects.filter(state=PState.CAPTURING).filter(_stale(now)):
        before = payment.state
        _capture(payment, actor=None, now=now)
        payment.refresh_from_db()
        changed += payment.state != before
    return changed
