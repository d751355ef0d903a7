"""The only code that talks to PayPal's REST API (through paypalrestsdk): plain results and typed errors.

paypalrestsdk is deprecated (archived in 2020); it stays behind this module so it can be replaced. Its
faults handled here: it sets no request timeout (TimeoutApi adds one); Payout.find / PayoutItem.find
build a wrong URL on Python 3.7+ (join_url repeats the id), so batches and items are read with
api.get(); a 400 comes back as False with .error while 404, 422 and 5xx raise; on a 401 it renews its
token and retries without end (TimeoutApi allows one retry); and it logs request and
response bodies (names, e-mail addresses, its Basic credentials) at DEBUG outside live mode.

Checkout is Orders v2 (create, the buyer's approval, capture, read) and refunds are Payments v2, both
sent through the SDK's Api transport (api.post / api.get); PayPal has deprecated the v1 payments the SDK's
Payment and Sale resources speak. Payouts stay on v1 (current).

Every call that changes something carries a PayPal-Request-Id the caller derives from its own rows;
a timeout, a dropped connection or a 5xx is retried with the same id, so PayPal (and the emulator)
answer a repeat with the first answer instead of acting twice.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import paypalrestsdk
import requests
from django.conf import settings
from paypalrestsdk import exceptions as sdk_errors
from paypalrestsdk.resource import Resource

logger = logging.getLogger(__name__)
# The SDK's own logger would write PayPal's bodies (personal data) and our credentials at DEBUG.
logging.getLogger("paypalrestsdk").setLevel(logging.WARNING)

T = TypeVar("T")

# PayPal error names that mean "PayPal (or the payer's bank) said no", as opposed to a malformed call.
DECLINED_NAMES = frozenset(
    {
        "INSTRUMENT_DECLINED",
        "PAYER_CANNOT_PAY",
        "PAYER_ACCOUNT_RESTRICTED",
        "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
        "CREDIT_CARD_REFUSED",
        "TRANSACTION_REFUSED",
        "INSUFFICIENT_FUNDS",
        "PAYEE_ACCOUNT_RESTRICTED",
        "CAPTURE_FULLY_REFUNDED",
        "REFUND_AMOUNT_EXCEEDED",
        "REFUND_NOT_ALLOWED",
        "REFUND_FAILED_INSUFFICIENT_FUNDS",
        "REFUND_TIME_LIMIT_EXCEEDED",
        "RECEIVER_UNREGISTERED",
    }
)
# The v2 error categories whose details[0].issue names what went wrong.
V2_CATEGORIES = frozenset({"UNPROCESSABLE_ENTITY", "INVALID_REQUEST", "RESOURCE_NOT_FOUND", "NOT_AUTHORIZED"})
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# --- Errors the rest of the code sees ---


class PayPalError(Exception):
    """PayPal did not do what was asked. Carries PayPal's error name and debug id, never its message body."""

    summary = "PayPal did not complete the request."

    def __init__(self, *, name: str = "", status: int | None = None, debug_id: str = "", detail: str = "") -> None:
        self.name, self.status, self.debug_id = name, status, debug_id
        parts = [detail or self.summary]
        if name:
            parts.append(f"PayPal error {name}")
        if debug_id:
            parts.append(f"debug id {debug_id}")
        super().__init__(" · ".join(parts))


class PayPalDeclined(PayPalError):
    summary = "PayPal declined it."


class PayPalUnavailable(PayPalError):
    """Timeouts, dropped connections and 5xx answers, after the retries. Safe to retry later with the same id."""

    summary = "PayPal is not answering just now; try again in a few minutes."


class PayPalInvalidRequest(PayPalError):
    summary = "PayPal refused the request as invalid."


class PayPalDuplicateBatch(PayPalInvalidRequest):
    """The sender_batch_id was used before: that batch exists (or existed) at PayPal."""

    summary = "PayPal already has a payout batch with this sender_batch_id."


# --- Results ---


@dataclass(frozen=True)
class OrderCreated:
    order_id: str
    status: str  # CREATED
    approve_url: str  # send the buyer's browser here


@dataclass(frozen=True)
class CaptureResult:
    capture_id: str
    # COMPLETED: the money is ours. PENDING: PayPal holds it (reason: PENDING_REVIEW, ECHECK, ...) and
    # settles it later, either way. DECLINED / FAILED: nothing was taken.
    status: str
    reason: str
    amount_cents: int
    currency: str
    # From seller_receivable_breakdown (PayPal gives it once the capture is COMPLETED): None until then.
    paypal_fee_cents: int | None = None
    net_cents: int | None = None


@dataclass(frozen=True)
class OrderResult:
    order_id: str
    status: str  # CREATED, APPROVED, COMPLETED, VOIDED, ...
    reference_id: str
    amount_cents: int
    currency: str
    payer_id: str = ""
    capture: CaptureResult | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str  # COMPLETED, PENDING (reason ECHECK, ...), FAILED, CANCELLED
    reason: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class PayoutRequestItem:
    sender_item_id: str  # our own id for the item (PayPal echoes it back)
    amount_cents: int
    currency: str
    receiver: str  # an e-mail address, or a payer id with recipient_type="PAYPAL_ID"
    recipient_type: str = "EMAIL"
    note: str = ""


@dataclass(frozen=True)
class PayoutItemResult:
    payout_item_id: str
    payout_batch_id: str
    sender_item_id: str
    transaction_status: str  # SUCCESS, PENDING, UNCLAIMED, FAILED, RETURNED, ONHOLD, BLOCKED, ...
    amount_cents: int
    currency: str
    error_name: str = ""


@dataclass(frozen=True)
class PayoutBatchResult:
    payout_batch_id: str
    sender_batch_id: str
    batch_status: str  # PENDING, PROCESSING, SUCCESS, DENIED, CANCELED
    items: tuple[PayoutItemResult, ...] = ()


# --- Money on the wire: PayPal takes decimal strings ---


def cents_to_paypal(cents: int) -> str:
    if not isinstance(cents, int) or cents <= 0:
        raise PayPalInvalidRequest(detail=f"An amount sent to PayPal is a positive number of cents, not {cents!r}.")
    return f"{cents // 100}.{cents % 100:02d}"


def paypal_to_cents(value: Any) -> int:
    try:
        cents = Decimal(str(value)) * 100
    except InvalidOperation:
        raise PayPalInvalidRequest(detail="PayPal answered with an amount that is not a number.") from None
    if cents != cents.to_integral_value():
        raise PayPalInvalidRequest(detail="PayPal answered with an amount finer than a cent.")
    return int(cents)


def _check_id(value: str, what: str) -> str:
    if not _ID.match(value or ""):
        raise PayPalInvalidRequest(detail=f"That is not a PayPal {what}.")
    return value


# --- The SDK, with a timeout ---


class TimeoutApi(paypalrestsdk.Api):
    """paypalrestsdk.Api with a timeout on every HTTP call (the SDK has none: a hung PayPal hangs us)."""

    def __init__(self, *, timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self._nesting = threading.local()

    def http_call(self, url, method, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().http_call(url, method, **kwargs)

    def request(self, *args, **kwargs):
        # On a 401 the SDK drops its token and calls request() again, and again on every 401: hundreds of
        # token and API calls until a RecursionError. The call and one retry with a new token are enough.
        depth = getattr(self._nesting, "depth", 0)
        if depth >= 2:
            raise sdk_errors.UnauthorizedAccess(None, None, "PayPal refused a new access token too.")
        self._nesting.depth = depth + 1
        try:
            return super().request(*args, **kwargs)
        finally:
            self._nesting.depth = depth


def _error_from_body(body: Any, status: int | None) -> PayPalError:
    body = body if isinstance(body, dict) else {}
    name = str(body.get("name") or body.get("error") or "")
    debug_id = str(body.get("debug_id") or "")
    details = body.get("details") or []
    if name == "USER_BUSINESS_ERROR" and any(
        "sender_batch_id" in str(d.get("field", "")).lower() or "sender_batch_id" in str(d.get("issue", "")).lower()
        for d in details
        if isinstance(d, dict)
    ):
        return PayPalDuplicateBatch(name=name, status=status, debug_id=debug_id)
    # Orders v2 and Payments v2 answer with a category (UNPROCESSABLE_ENTITY, RESOURCE_NOT_FOUND, ...)
    # and put the reason (INSTRUMENT_DECLINED, ORDER_ALREADY_CAPTURED, ...) in details[0].issue.
    issue = next((str(d.get("issue") or "") for d in details if isinstance(d, dict) and d.get("issue")), "")
    if issue and name in V2_CATEGORIES:
        name = issue
    if name in DECLINED_NAMES:
        return PayPalDeclined(name=name, status=status, debug_id=debug_id)
    return PayPalInvalidRequest(name=name, status=status, debug_id=debug_id)


def _content(exc: sdk_errors.ConnectionError) -> dict:
    try:
        return json.loads(exc.content or "{}")
    except (TypeError, ValueError):
        return {}


def _status(exc: sdk_errors.ConnectionError) -> int | None:
    return getattr(exc.response, "status_code", None)


class PayPalGateway:
    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        mode: str = "sandbox",
        timeout: float = 15.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.api = TimeoutApi(
            mode=mode, endpoint=base_url.rstrip("/"), client_id=client_id, client_secret=client_secret, timeout=timeout
        )
        self.retries = retries
        self.backoff = backoff

    # The retry loop: only what may not have reached PayPal, or failed inside it, is tried again.
    def _call(self, operation: str, attempt: Callable[[], T]) -> T:
        last: PayPalUnavailable | None = None
        for number in range(1, self.retries + 2):
            try:
                return attempt()
            except (requests.Timeout, requests.ConnectionError):
                last = PayPalUnavailable(detail=f"PayPal did not answer the {operation} in time.")
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
                # The answer was cut off mid-way: PayPal may have acted, so retry with the same id.
                last = PayPalUnavailable(detail=f"PayPal's answer to the {operation} was cut off.")
            except sdk_errors.ServerError as exc:
                body = _content(exc)
                last = PayPalUnavailable(
                    name=str(body.get("name", "")), status=_status(exc), debug_id=str(body.get("debug_id", ""))
                )
            except (sdk_errors.UnauthorizedAccess, sdk_errors.ForbiddenAccess) as exc:
                raise PayPalInvalidRequest(
                    status=_status(exc) if isinstance(exc, sdk_errors.ConnectionError) else 401,
                    detail="PayPal refused our credentials: "
                    "check PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_MODE.",
                ) from None
            except sdk_errors.ClientError as exc:  # 404, 409, 422, 429, ...
                if _status(exc) == 429:
                    last = PayPalUnavailable(status=429, detail="PayPal asked us to slow down.")
                else:
                    raise _error_from_body(_content(exc), _status(exc)) from None
            except sdk_errors.ConnectionError as exc:  # redirects and unknown statuses
                raise PayPalInvalidRequest(status=_status(exc)) from None
            except json.JSONDecodeError:
                # Not JSON, e.g. an HTML error page from a proxy in front of PayPal: what PayPal did is
                # unknown, and a retry with the same request id is safe. The SDK's exception (and the 400
                # it came from) hold that page, so neither is kept.
                last = PayPalUnavailable(detail=f"PayPal's answer to the {operation} could not be read.")
            # Logged without PayPal's body: it may carry personal data.
            logger.warning("PayPal %s attempt %s failed: %s", operation, number, last)
            if number <= self.retries:
                time.sleep(self.backoff * number)
        assert last is not None
        raise last

    @staticmethod
    def _refused(resource: Resource | dict) -> PayPalError:
        error = resource.get("error") if isinstance(resource, dict) else resource.error
        return _error_from_body(error, 400)

    def _post(self, path: str, body: dict, request_id: str) -> dict:
        # Prefer: return=representation, so an answer carries the whole order or refund, not only its id.
        data = self.api.post(path, body, {"PayPal-Request-Id": request_id, "Prefer": "return=representation"})
        if "error" in data:  # the SDK turns a 400 into {"error": body}
            raise self._refused(data)
        return data

    def _get(self, path: str) -> dict:
        data = self.api.get(path)
        if "error" in data:
            raise self._refused(data)
        return data

    # --- Checkout: Orders v2 (intent CAPTURE) ---

    def create_order(
        self,
        *,
        amount_cents: int,
        currency: str,
        description: str,
        reference_id: str,
        invoice_id: str,
        return_url: str,
        cancel_url: str,
        request_id: str,
        brand_name: str = "InterKanect",
    ) -> OrderCreated:
        """Create an order for the buyer to approve at approve_url; PayPal sends them back to return_url."""
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": reference_id,
                    "invoice_id": invoice_id,
                    "description": description[:127],
                    "amount": {"currency_code": currency, "value": cents_to_paypal(amount_cents)},
                }
            ],
            "application_context": {
                "brand_name": brand_name[:127],
                "shipping_preference": "NO_SHIPPING",
                "user_action": "PAY_NOW",
                "return_url": return_url,
                "cancel_url": cancel_url,
            },
        }

        def attempt() -> OrderCreated:
            data = self._post("v2/checkout/orders", body, request_id)
            approve = next((link["href"] for link in data.get("links", []) if link.get("rel") == "approve"), "")
            if not approve:
                raise PayPalInvalidRequest(detail="PayPal created the order without an approve link.")
            return OrderCreated(order_id=_check_id(data["id"], "order id"), status=data["status"], approve_url=approve)

        return self._call("order creation", attempt)

    def capture_order(self, *, order_id: str, request_id: str) -> OrderResult:
        """Capture an approved order (once: a repeat with the same request id gets PayPal's first answer).

        Raises PayPalDeclined (INSTRUMENT_DECLINED: the buyer may approve again with another way to pay) and
        PayPalInvalidRequest named ORDER_NOT_APPROVED or ORDER_ALREADY_CAPTURED (read the order for its capture).
        """
        _check_id(order_id, "order id")
        return self._call(
            "order capture", lambda: _order_result(self._post(f"v2/checkout/orders/{order_id}/capture", {}, request_id))
        )

    def get_order(self, *, order_id: str) -> OrderResult:
        _check_id(order_id, "order id")
        return self._call("order read", lambda: _order_result(self._get(f"v2/checkout/orders/{order_id}")))

    # --- Refunds: Payments v2 ---

    def refund_capture(
        self,
        *,
        capture_id: str,
        request_id: str,
        amount_cents: int | None = None,
        currency: str | None = None,
        invoice_id: str = "",
        note_to_payer: str = "",
    ) -> RefundResult:
        """Refund a capture: all of what is left when amount_cents is None, else that much."""
        _check_id(capture_id, "capture id")
        body: dict[str, Any] = {}
        if amount_cents is not None:
            body["amount"] = {"value": cents_to_paypal(amount_cents), "currency_code": currency or settings.CURRENCY}
        if invoice_id:
            body["invoice_id"] = invoice_id
        if note_to_payer:
            body["note_to_payer"] = note_to_payer[:255]
        return self._call(
            "refund", lambda: _refund_result(self._post(f"v2/payments/captures/{capture_id}/refund", body, request_id))
        )

    def get_refund(self, *, refund_id: str) -> RefundResult:
        _check_id(refund_id, "refund id")
        return self._call("refund read", lambda: _refund_result(self._get(f"v2/payments/refunds/{refund_id}")))

    # --- Payouts ---

    def create_payout_batch(
        self,
        *,
        sender_batch_id: str,
        items: list[PayoutRequestItem],
        email_subject: str = "You have a payout from InterKanect",
        request_id: str | None = None,
    ) -> PayoutBatchResult:
        """Send a payout batch. sender_batch_id (stored before this call) is also the default request id."""
        if not items:
            raise PayPalInvalidRequest(detail="A payout batch needs at least one item.")
        body = {
            "sender_batch_header": {"sender_batch_id": sender_batch_id, "email_subject": email_subject},
            "items": [
                {
                    "recipient_type": item.recipient_type,
                    "amount": {"value": cents_to_paypal(item.amount_cents), "currency": item.currency},
                    "receiver": item.receiver,
                    "note": item.note,
                    "sender_item_id": item.sender_item_id,
                }
                for item in items
            ],
        }

        def attempt() -> PayoutBatchResult:
            payout = paypalrestsdk.Payout(body, api=self.api)
            payout.request_id = request_id or sender_batch_id
            if not payout.create():
                raise self._refused(payout)
            header = payout.batch_header
            return PayoutBatchResult(
                payout_batch_id=header.payout_batch_id,
                sender_batch_id=header.sender_batch_header.sender_batch_id,
                batch_status=header.batch_status,
            )

        return self._call("payout batch creation", attempt)

    def get_payout_batch(self, *, payout_batch_id: str) -> PayoutBatchResult:
        _check_id(payout_batch_id, "payout batch id")

        def attempt() -> PayoutBatchResult:
            # Not Payout.find: its URL repeats the id on Python 3.7+.
            data = self.api.get(f"v1/payments/payouts/{payout_batch_id}")
            if "error" in data:
                raise self._refused(data)
            header = data["batch_header"]
            return PayoutBatchResult(
                payout_batch_id=header["payout_batch_id"],
                sender_batch_id=header["sender_batch_header"]["sender_batch_id"],
                batch_status=header["batch_status"],
                items=tuple(_item_result(item) for item in data.get("items", [])),
            )

        return self._call("payout batch read", attempt)

    def get_payout_item(self, *, payout_item_id: str) -> PayoutItemResult:
        _check_id(payout_item_id, "payout item id")

        def attempt() -> PayoutItemResult:
            data = self.api.get(f"v1/payments/payouts-item/{payout_item_id}")
            if "error" in data:
                raise self._refused(data)
            return _item_result(data)

        return self._call("payout item read", attempt)


def _money(amount: Any) -> tuple[int, str]:
    amount = amount if isinstance(amount, dict) else {}
    return paypal_to_cents(amount.get("value")), str(amount.get("currency_code", ""))


def _capture_result(data: dict) -> CaptureResult:
    cents, currency = _money(data.get("amount"))
    fee = net = None
    breakdown = data.get("seller_receivable_breakdown") or {}
    if breakdown.get("paypal_fee"):
        fee = _money(breakdown["paypal_fee"])[0]
    if breakdown.get("net_amount"):
        net = _money(breakdown["net_amount"])[0]
    return CaptureResult(
        capture_id=_check_id(data["id"], "capture id"),
        status=str(data.get("status", "")),
        reason=str((data.get("status_details") or {}).get("reason", "")),
        amount_cents=cents,
        currency=currency,
        paypal_fee_cents=fee,
        net_cents=net,
    )


def _order_result(data: dict) -> OrderResult:
    unit = (data.get("purchase_units") or [{}])[0]
    captures = (unit.get("payments") or {}).get("captures") or []
    cents, currency = _money(unit.get("amount")) if unit.get("amount") else (0, "")
    if captures and not unit.get("amount"):
        cents, currency = _money(captures[0].get("amount"))
    return OrderResult(
        order_id=_check_id(data["id"], "order id"),
        status=str(data.get("status", "")),
        reference_id=str(unit.get("reference_id", "")),
        amount_cents=cents,
        currency=currency,
        payer_id=str((data.get("payer") or {}).get("payer_id", "")),
        # intent CAPTURE: one capture per order.
        capture=_capture_result(captures[0]) if captures else None,
    )


def _refund_result(data: dict) -> RefundResult:
    cents, currency = _money(data.get("amount"))
    return RefundResult(
        refund_id=_check_id(data["id"], "refund id"),
        status=str(data.get("status", "")),
        reason=str((data.get("status_details") or {}).get("reason", "")),
        amount_cents=cents,
        currency=currency,
    )


def _item_result(data: dict) -> PayoutItemResult:
    item = data.get("payout_item", {})
    return PayoutItemResult(
        payout_item_id=data["payout_item_id"],
        payout_batch_id=data.get("payout_batch_id", ""),
        sender_item_id=item.get("sender_item_id", ""),
        transaction_status=data.get("transaction_status", ""),
        amount_cents=paypal_to_cents(item["amount"]["value"]),
        currency=item["amount"]["currency"],
        error_name=str((data.get("errors") or {}).get("name", "")),
    )


def get_gateway() -> PayPalGateway:
    """The gateway for the current settings (PayPal, or the emulator when no credentials are set)."""
    return _gateway(
        settings.PAYPAL_API_BASE_URL,
        settings.PAYPAL_CLIENT_ID,
        settings.PAYPAL_CLIENT_SECRET,
        settings.PAYPAL_MODE,
        settings.PAYPAL_TIMEOUT_SECONDS,
        settings.PAYPAL_RETRIES,
        settings.PAYPAL_RETRY_BACKOFF_SECONDS,
    )


@functools.lru_cache(maxsize=8)
def _gateway(base_url, client_id, client_secret, mode, timeout, retries, backoff) -> PayPalGateway:
    # One per configuration, so the OAuth token the SDK caches is reused between calls.
    return PayPalGateway(
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        mode=mode,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
    )
