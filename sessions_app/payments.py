"""Every write to a consultation's money: the client's PayPal payment, its refund, and the SME's earning.

PayPal is never called inside a transaction. Each outside call is preceded by a committed row whose id
makes the PayPal-Request-Id, and is claimed first by a conditional UPDATE (one sender at a time, until
the claim is stale), so a replayed return, two tabs, a timeout or a second housekeeping run repeat the
same request at most, and PayPal answers a repeat with its first answer: one capture, one refund.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import sme_hosting_standing
from accounts.services import audit_record
from payouts.models import LedgerEntry
from payouts.paypal.gateway import (
    OrderResult,
    PayPalDeclined,
    PayPalError,
    PayPalUnavailable,
    RefundResult,
    get_gateway,
)
from payouts.services import ledger_credit_earning, ledger_reverse_earning

from .models import Consultation, Payment, Refund
from .notifications import consultation_notify_on_commit

logger = logging.getLogger(__name__)

State = Consultation.State
PState = Payment.State
RState = Refund.State

# A capture or refund sent this long ago without an answer recorded is stale: its sender died or gave up,
# and another may send the same request again (with the same request id, so PayPal acts once).
CLAIM_STALE_AFTER = timedelta(minutes=2)


class PaymentError(Exception):
    """A payment that cannot go ahead now; the message says why and what to do next."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class PaymentOutcome:
    """What a return from PayPal came to, for the page: a code for tests and code, a sentence for people."""

    code: str  # paid, pending, declined, not_approved, unavailable, confirming, cancelled, closed, wrong_order
    message: str
    level: str = "info"  # success, info, warning, error


NOT_CHARGED = "Nothing was charged."
UNAVAILABLE = "PayPal is not answering just now."


def _stale(now) -> Q:
    return Q(capture_started_at__isnull=True) | Q(capture_started_at__lt=now - CLAIM_STALE_AFTER)


def _audit(event: str, *, actor: User | None, payment: Payment, **data) -> None:
    audit_record(
        event=event,
        actor=actor,
        subject=payment.consultation.sme,
        target=payment,
        data={"consultation": payment.consultation_id, "amount_cents": payment.amount_cents, **data},
    )


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
            _audit("payment.started", actor=client, payment=payment)
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
    done = Payment.objects.filter(
        consultation=consultation, order_id=order_id, state__in=(PState.CREATED, PState.APPROVAL)
    ).update(state=PState.ABANDONED, paypal_reason="cancelled by the client at PayPal")
    if done:
        payment = Payment.objects.select_related("consultation__sme").get(order_id=order_id)
        _audit("payment.cancelled_at_paypal", actor=client, payment=payment)
    return PaymentOutcome(
        "cancelled",
        f"You cancelled at PayPal. {NOT_CHARGED} The room opens once it is paid: pay with PayPal when you are ready.",
        "warning",
    )


def payment_capture(*, consultation: Consultation, order_id: str, client: User) -> PaymentOutcome:
    """The client approved at PayPal and came back: capture the order, once, and open the room."""
    payment = (
        Payment.objects.select_related("consultation").filter(order_id=order_id).first()
        if order_id and len(order_id) <= 64
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
    amount = _amount(payment)
    if payment.state == PState.CAPTURED:
        if hasattr(payment, "refund"):
            return PaymentOutcome("refunded", _refund_sentence(payment.refund), "info")
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


def _amount(payment: Payment) -> str:
    from payouts.templatetags.money import money

    return money(payment.amount_cents, payment.currency)


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
    _audit("payment.declined", actor=None, payment=payment, reason=reason)
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
        _audit(
            "payment.captured",
            actor=actor,
            payment=locked,
            capture_id=capture.capture_id,
            paypal_fee_cents=capture.paypal_fee_cents,
        )
        if consultation.state == State.CLAIMED:
            from .services import consultation_mark_ready

            # Its e-mails say the room is open; the client's is the receipt.
            consultation_mark_ready(consultation=consultation, actor=actor)
        else:
            # Cancelled or expired while PayPal captured it: the money goes back.
            _refund_open(locked, reason=_reason_for(consultation), actor=None)
        return payment_outcome(payment=locked)
    if capture.status == "PENDING":
        locked.state = PState.PENDING
        locked.save(update_fields=fields)
        _audit("payment.pending", actor=actor, payment=locked, reason=capture.reason)
        return payment_outcome(payment=locked)
    locked.state = PState.DECLINED  # DECLINED, FAILED: nothing was taken
    locked.save(update_fields=fields)
    _audit("payment.declined", actor=actor, payment=locked, reason=capture.status)
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


# --- Refunds ---


def _reason_for(consultation: Consultation) -> str:
    if consultation.state == State.EXPIRED:
        return Refund.Reason.EXPIRED
    return Refund.Reason.CANCELLED


def _refund_open(payment: Payment, *, reason: str, actor: User | None, note: str = "") -> Refund:
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
    _audit("refund.requested", actor=actor, payment=payment, reason=reason)
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
        return _refund_open(payment, reason=reason, actor=actor)
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
            _audit("refund.failed", actor=None, payment=payment, refund=refund.pk, paypal_error=refund.paypal_error)
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
        _audit("refund.completed", actor=None, payment=locked.payment, refund=locked.pk, refund_id=result.refund_id)
        consultation_notify_on_commit(consultation=locked.payment.consultation, kind="refunded")
    elif result.status == "PENDING":
        locked.state = RState.PENDING
        locked.paypal_error = result.reason
        locked.save(update_fields=["refund_id", "state", "paypal_error"])
    else:  # FAILED, CANCELLED
        locked.state = RState.FAILED
        locked.paypal_error = f"PayPal reported the refund {result.status}"
        locked.save(update_fields=["refund_id", "state", "paypal_error"])
        _audit("refund.failed", actor=None, payment=locked.payment, refund=locked.pk, paypal_error=locked.paypal_error)
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
    _audit("refund.retried", actor=actor, payment=refund.payment, refund=refund.pk, round=refund.round)
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
    refund = _refund_open(payment, reason=Refund.Reason.STAFF, actor=actor, note=note)
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


def payment_credit_earning(*, consultation: Consultation) -> LedgerEntry | None:
    """Credit the SME with the captured amount less the platform fee; once (the ledger key is the consultation).

    Called inside the transaction that completes the consultation, so the two commit together. A free
    consultation, or one without a captured payment, earns nothing.
    """
    if consultation.state != State.COMPLETED or consultation.is_free:
        return None
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


def _refund_sentence(refund: Refund) -> str:
    amount = _amount(refund.payment)
    if refund.state == RState.COMPLETED:
        return f"Refunded: {amount} went back to your PayPal account."
    if refund.state == RState.FAILED:
        return f"Your refund of {amount} is delayed: PayPal refused it for now, and our staff are on it."
    return f"Your refund of {amount} is on its way to your PayPal account."
