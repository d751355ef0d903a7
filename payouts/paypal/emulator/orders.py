"""The emulator's Orders v2 checkout and Payments v2 refunds, with PayPal's documented shapes and error names.

An order is CREATED, APPROVED by the buyer on the emulator's page (/checkoutnow?token=<order id>), then
captured once: the capture is COMPLETED (with its seller_receivable_breakdown), PENDING (PayPal reviewing
it: status_details.reason PENDING_REVIEW) or DECLINED, by rules on the buyer's e-mail address (see the
package docstring). Refunds of a COMPLETED capture are COMPLETED at once, or PENDING (eCheck) until read.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .common import ApiError, State, money, new_id, payer_id_for

# What the emulator charges as PayPal's fee on a capture: PayPal's standard US rate for PayPal Checkout.
FEE_PERCENT = Decimal("3.49")
FEE_FIXED = Decimal("0.49")
CENT = Decimal("0.01")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(email: str) -> str:
    return email.split("@", 1)[0].lower()


def capture_rule(email: str) -> tuple[str, str, str]:
    """(capture status at capture time, its reason, the status a PENDING capture resolves to)."""
    local = _local(email)
    if "refused" in local:
        return "DECLINED", "", ""
    if "pending" in local:
        return "PENDING", "PENDING_REVIEW", "DECLINED" if "denied" in local else "COMPLETED"
    return "COMPLETED", "", ""


def paypal_fee(gross: Decimal) -> Decimal:
    return min(gross, (gross * FEE_PERCENT / 100 + FEE_FIXED).quantize(CENT, rounding=ROUND_HALF_UP))


def _amount(value: Decimal | str, currency: str) -> dict:
    return {"currency_code": currency, "value": str(value)}


def _unprocessable(issue: str, description: str, links: list | None = None) -> ApiError:
    error = ApiError(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
        [{"issue": issue, "description": description}],
    )
    error.links = links or []
    return error


def _not_found() -> ApiError:
    return ApiError(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        [{"issue": "INVALID_RESOURCE_ID", "description": "Specified resource ID does not exist."}],
    )


def _invalid(field: str, issue: str, description: str) -> dict:
    return {"field": field, "location": "body", "issue": issue, "description": description}


class OrdersApi:
    lock: threading.Lock
    state: State
    url: str

    # --- Orders ---

    def _create_order(self, data: dict) -> tuple[int, dict]:
        details = []
        if data.get("intent") != "CAPTURE":
            details.append(_invalid("/intent", "INVALID_PARAMETER_VALUE", "The emulator supports intent CAPTURE."))
        units = data.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            details.append(_invalid("/purchase_units", "INVALID_ARRAY_LENGTH", "The emulator takes one purchase unit."))
            units = [{}]
        unit = units[0]
        amount = unit.get("amount") if isinstance(unit.get("amount"), dict) else {}
        try:
            value = money(amount.get("value"))
        except ValueError:
            value = None
            details.append(
                _invalid(
                    "/purchase_units/@reference_id=='default'/amount/value",
                    "INVALID_PARAMETER_VALUE",
                    "The amount is a positive number with at most two decimals.",
                )
            )
        currency = str(amount.get("currency_code", ""))
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            details.append(
                _invalid(
                    "/purchase_units/@reference_id=='default'/amount/currency_code",
                    "INVALID_CURRENCY_CODE",
                    "Currency code is invalid or is not currently supported.",
                )
            )
        context = data.get("application_context")
        if not isinstance(context, dict):
            context = ((data.get("payment_source") or {}).get("paypal") or {}).get("experience_context") or {}
        if not context.get("return_url") or not context.get("cancel_url"):
            details.append(
                _invalid(
                    "/application_context", "MISSING_REQUIRED_PARAMETER", "return_url and cancel_url are required."
                )
            )
        if details:
            raise ApiError(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                details,
            )
        order_id = new_id("", 17)
        order = {
            "id": order_id,
            "status": "CREATED",
            "reference_id": str(unit.get("reference_id") or "default"),
            "description": str(unit.get("description") or ""),
            "custom_id": str(unit.get("custom_id") or ""),
            "invoice_id": str(unit.get("invoice_id") or ""),
            "value": str(value),
            "currency": currency,
            "return_url": str(context["return_url"]),
            "cancel_url": str(context["cancel_url"]),
            "brand_name": str(context.get("brand_name") or ""),
            "payer_email": "",
            "capture_id": "",
            "create_time": _now(),
        }
        with self.lock:
            self.state.orders[order_id] = order
        return 201, self._order_body(order)

    def approve_url(self, order_id: str) -> str:
        return f"{self.url}/checkoutnow?token={order_id}"

    def _order_body(self, order: dict) -> dict:
        base = f"{self.url}/v2/checkout/orders/{order['id']}"
        unit: dict[str, Any] = {
            "reference_id": order["reference_id"],
            "amount": _amount(order["value"], order["currency"]),
        }
        for key in ("description", "custom_id", "invoice_id"):
            if order[key]:
                unit[key] = order[key]
        if order["capture_id"]:
            unit["payments"] = {"captures": [self._capture_body(self.state.captures[order["capture_id"]])]}
        body: dict[str, Any] = {
            "id": order["id"],
            "intent": "CAPTURE",
            "status": order["status"],
            "purchase_units": [unit],
            "create_time": order["create_time"],
            "links": [{"href": base, "rel": "self", "method": "GET"}],
        }
        if order["status"] == "CREATED":
            body["links"].append({"href": self.approve_url(order["id"]), "rel": "approve", "method": "GET"})
        if order["status"] in {"CREATED", "APPROVED"}:
            body["links"].append({"href": f"{base}/capture", "rel": "capture", "method": "POST"})
        if order["payer_email"]:
            body["payer"] = {
                "email_address": order["payer_email"],
                "payer_id": payer_id_for(order["payer_email"]),
                "name": {"given_name": "Emulated", "surname": "Buyer"},
            }
        return body

    def _order(self, order_id: str) -> dict:
        with self.lock:
            order = self.state.orders.get(order_id)
            if order is None:
                raise _not_found()
            if order["capture_id"]:
                self._resolve(self.state.captures[order["capture_id"]])
            return self._order_body(order)

    def order_for_token(self, token: str) -> dict | None:
        with self.lock:
            order = self.state.orders.get(token)
            return dict(order) if order else None

    def approve_order(self, token: str, email: str) -> dict | None:
        """The buyer approved on the page (again, after a declined instrument: PayPal lets them choose another)."""
        with self.lock:
            order = self.state.orders.get(token)
            if order is None or order["status"] not in {"CREATED", "APPROVED"}:
                return None
            order["payer_email"] = email.strip().lower()
            order["status"] = "APPROVED"
            self.state.emails_by_payer_id[payer_id_for(email)] = order["payer_email"]
            return dict(order)

    def _capture_order(self, order_id: str) -> tuple[int, dict]:
        with self.lock:
            order = self.state.orders.get(order_id)
            if order is None:
                raise _not_found()
            if order["status"] == "COMPLETED":
                raise _unprocessable(
                    "ORDER_ALREADY_CAPTURED",
                    "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
                )
            if order["status"] != "APPROVED":
                raise _unprocessable(
                    "ORDER_NOT_APPROVED",
                    "Payer has not yet approved the Order for payment. Please redirect the payer to the "
                    "'rel':'approve' url returned as part of the HATEOAS links within the Create Order call.",
                )
            if "declined" in _local(order["payer_email"]):
                # The order stays APPROVED: PayPal sends the buyer back to choose another funding source.
                raise _unprocessable(
                    "INSTRUMENT_DECLINED",
                    "The instrument presented was either declined by the processor or bank, "
                    "or it can't be used for this payment.",
                    [{"href": self.approve_url(order_id), "rel": "redirect", "method": "GET"}],
                )
            if order["invoice_id"] and order["invoice_id"] in self.state.invoice_ids:
                raise _unprocessable("DUPLICATE_INVOICE_ID", "Duplicate Invoice ID detected.")
            status, reason, resolves_to = capture_rule(order["payer_email"])
            gross = Decimal(order["value"])
            capture_id = new_id("", 17)
            self.state.captures[capture_id] = {
                "id": capture_id,
                "order_id": order_id,
                "status": status,
                "reason": reason,
                "resolves_to": resolves_to,
                "value": str(gross),
                "currency": order["currency"],
                "fee": str(paypal_fee(gross)),
                "refunded": Decimal("0"),
                "payer_email": order["payer_email"],
                "invoice_id": order["invoice_id"],
                "custom_id": order["custom_id"],
                "create_time": _now(),
            }
            if order["invoice_id"]:
                self.state.invoice_ids.add(order["invoice_id"])
            order["status"] = "COMPLETED"
            order["capture_id"] = capture_id
            return 201, self._order_body(order)

    def _resolve(self, capture: dict) -> None:
        """PayPal finishes its review of a PENDING capture: here, by the first read after the capture."""
        if capture["status"] == "PENDING" and capture["resolves_to"]:
            capture["status"], capture["reason"] = capture["resolves_to"], ""

    def _capture_body(self, capture: dict) -> dict:
        body: dict[str, Any] = {
            "id": capture["id"],
            "status": capture["status"],
            "amount": _amount(capture["value"], capture["currency"]),
            "final_capture": True,
            "create_time": capture["create_time"],
            "update_time": _now(),
            "links": [
                {"href": f"{self.url}/v2/payments/captures/{capture['id']}", "rel": "self", "method": "GET"},
                {
                    "href": f"{self.url}/v2/payments/captures/{capture['id']}/refund",
                    "rel": "refund",
                    "method": "POST",
                },
            ],
        }
        for key in ("invoice_id", "custom_id"):
            if capture[key]:
                body[key] = capture[key]
        if capture["reason"]:
            body["status_details"] = {"reason": capture["reason"]}
        if capture["status"] in {"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"}:
            gross, fee = Decimal(capture["value"]), Decimal(capture["fee"])
            body["seller_receivable_breakdown"] = {
                "gross_amount": _amount(gross, capture["currency"]),
                "paypal_fee": _amount(fee, capture["currency"]),
                "net_amount": _amount(gross - fee, capture["currency"]),
            }
        return body

    def _capture(self, capture_id: str) -> dict:
        with self.lock:
            capture = self.state.captures.get(capture_id)
            if capture is None:
                raise _not_found()
            self._resolve(capture)
            return self._capture_body(capture)

    # --- Refunds ---

    def _refund_capture(self, capture_id: str, data: dict) -> tuple[int, dict]:
        with self.lock:
            capture = self.state.captures.get(capture_id)
            if capture is None:
                raise _not_found()
            if capture["status"] == "REFUNDED":
                raise _unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded")
            if capture["status"] not in {"COMPLETED", "PARTIALLY_REFUNDED"}:
                raise _unprocessable("REFUND_NOT_ALLOWED", f"A capture that is {capture['status']} cannot be refunded.")
            remaining = Decimal(capture["value"]) - capture["refunded"]
            amount = data.get("amount")
            if amount:
                if not isinstance(amount, dict):
                    raise ApiError(
                        400,
                        "INVALID_REQUEST",
                        "Request is not well-formed, syntactically incorrect, or violates schema.",
                        [_invalid("/amount", "INVALID_PARAMETER_SYNTAX", "The amount is an object.")],
                    )
                try:
                    value = money(amount.get("value"))
                except ValueError:
                    raise ApiError(
                        400,
                        "INVALID_REQUEST",
                        "Request is not well-formed, syntactically incorrect, or violates schema.",
                        [
                            _invalid(
                                "/amount/value",
                                "INVALID_PARAMETER_VALUE",
                                "The amount is a positive number with at most two decimals.",
                            )
                        ],
                    ) from None
                if amount.get("currency_code") != capture["currency"]:
                    raise _unprocessable(
                        "REFUND_CAPTURE_CURRENCY_MISMATCH",
                        "Refund must be in the same currency as the capture.",
                    )
                if value > remaining:
                    raise _unprocessable(
                        "REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount."
                    )
            else:
                value = remaining
            capture["refunded"] += value
            capture["status"] = "REFUNDED" if capture["refunded"] == Decimal(capture["value"]) else "PARTIALLY_REFUNDED"
            # A refund to an eCheck payment waits for the eCheck to clear: PENDING until it is read again.
            pending = "echeck" in _local(capture["payer_email"])
            refund_id = new_id("", 17)
            refund = {
                "id": refund_id,
                "capture_id": capture_id,
                "status": "PENDING" if pending else "COMPLETED",
                "reason": "ECHECK" if pending else "",
                "value": str(value),
                "currency": capture["currency"],
                "invoice_id": str(data.get("invoice_id") or ""),
                "note_to_payer": str(data.get("note_to_payer") or ""),
                "create_time": _now(),
            }
            self.state.refunds[refund_id] = refund
            return 201, self._refund_body(refund)

    def _refund_body(self, refund: dict) -> dict:
        body: dict[str, Any] = {
            "id": refund["id"],
            "status": refund["status"],
            "amount": _amount(refund["value"], refund["currency"]),
            "create_time": refund["create_time"],
            "links": [
                {"href": f"{self.url}/v2/payments/refunds/{refund['id']}", "rel": "self", "method": "GET"},
                {"href": f"{self.url}/v2/payments/captures/{refund['capture_id']}", "rel": "up", "method": "GET"},
            ],
        }
        if refund["reason"]:
            body["status_details"] = {"reason": refund["reason"]}
        for key in ("invoice_id", "note_to_payer"):
            if refund[key]:
                body[key] = refund[key]
        return body

    def _refund(self, refund_id: str) -> dict:
        with self.lock:
            refund = self.state.refunds.get(refund_id)
            if refund is None:
                raise _not_found()
            body = self._refund_body(refund)
            if refund["status"] == "PENDING":  # the eCheck clears: the next read finds it COMPLETED
                refund["status"], refund["reason"] = "COMPLETED", ""
            return body
