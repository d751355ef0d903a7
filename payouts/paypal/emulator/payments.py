"""The emulator's v1 payments: create, approve (from the page), execute, refund a sale."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from .common import (
    ApiError,
    State,
    money,
    new_id,
    payer_id_for,
)


class PaymentsApi:
    lock: threading.Lock
    state: State
    url: str

    def _create_payment(self, data: dict) -> tuple[int, dict]:
        details = []
        transactions = data.get("transactions") or [{}]
        amount = transactions[0].get("amount") or {}
        try:
            total = money(amount.get("total"))
        except ValueError:
            total = None
            details.append({"field": "transactions[0].amount.total", "issue": "Amount must be positive, 2 decimals"})
        currency = str(amount.get("currency", ""))
        if len(currency) != 3:
            details.append({"field": "transactions[0].amount.currency", "issue": "Currency code is invalid"})
        if data.get("intent") != "sale":
            details.append({"field": "intent", "issue": "The emulator supports intent sale"})
        if (data.get("payer") or {}).get("payment_method") != "paypal":
            details.append({"field": "payer.payment_method", "issue": "The emulator supports paypal"})
        redirect_urls = data.get("redirect_urls") or {}
        if not redirect_urls.get("return_url") or not redirect_urls.get("cancel_url"):
            details.append({"field": "redirect_urls", "issue": "return_url and cancel_url are required"})
        if details:
            raise ApiError(400, "VALIDATION_ERROR", "Invalid request - see details", details)
        payment_id, token = new_id("PAYID-", 24), new_id("EC-")
        payment = {
            "id": payment_id,
            "intent": "sale",
            "state": "created",
            "token": token,
            "total": str(total),
            "currency": currency,
            "description": transactions[0].get("description", ""),
            "invoice_number": transactions[0].get("invoice_number", ""),
            "redirect_urls": redirect_urls,
            "payer_email": "",
            "sale_id": "",
        }
        with self.lock:
            self.state.payments[payment_id] = payment
            self.state.payments_by_token[token] = payment_id
        return 201, self._payment_body(payment)

    def _payment_body(self, payment: dict) -> dict:
        base = f"{self.url}/v1/payments/payment/{payment['id']}"
        transaction: dict[str, Any] = {
            "amount": {"total": payment["total"], "currency": payment["currency"]},
            "description": payment["description"],
            "invoice_number": payment["invoice_number"],
            "related_resources": [],
        }
        if payment["sale_id"]:
            sale = self.state.sales[payment["sale_id"]]
            transaction["related_resources"] = [{"sale": self._sale_body(sale)}]
        body = {
            "id": payment["id"],
            "intent": "sale",
            "state": payment["state"],
            "payer": {"payment_method": "paypal"},
            "transactions": [transaction],
            "links": [
                {"href": base, "rel": "self", "method": "GET"},
                {
                    "href": f"{self.url}/checkoutnow?token={payment['token']}",
                    "rel": "approval_url",
                    "method": "REDIRECT",
                },
                {"href": f"{base}/execute", "rel": "execute", "method": "POST"},
            ],
        }
        if payment["payer_email"]:
            body["payer"]["payer_info"] = {
                "email": payment["payer_email"],
                "payer_id": payer_id_for(payment["payer_email"]),
            }
            body["payer"]["status"] = "VERIFIED"
        return body

    def _payment(self, payment_id: str) -> dict:
        with self.lock:
            payment = self.state.payments.get(payment_id)
            if payment is None:
                raise ApiError(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            return self._payment_body(payment)

    def approve(self, token: str, email: str) -> dict | None:
        with self.lock:
            payment = self.state.payments.get(self.state.payments_by_token.get(token, ""))
            if payment is None or payment["state"] != "created":
                return None
            payment["payer_email"] = email.strip().lower()
            payment["approved"] = True
            self.state.emails_by_payer_id[payer_id_for(email)] = payment["payer_email"]
            return payment

    def payment_for_token(self, token: str) -> dict | None:
        with self.lock:
            return self.state.payments.get(self.state.payments_by_token.get(token, ""))

    def _execute_payment(self, payment_id: str, data: dict) -> tuple[int, dict]:
        with self.lock:
            payment = self.state.payments.get(payment_id)
            if payment is None:
                raise ApiError(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            if payment["state"] == "approved":
                raise ApiError(400, "PAYMENT_ALREADY_DONE", "Payment has been done already for this cart.")
            if not payment.get("approved"):
                raise ApiError(400, "PAYMENT_NOT_APPROVED_FOR_EXECUTION", "Payer has not approved payment")
            if data.get("payer_id") != payer_id_for(payment["payer_email"]):
                raise ApiError(400, "PAYER_ID_INVALID", "Payer ID is invalid")
            if "declined" in payment["payer_email"]:
                raise ApiError(
                    400,
                    "INSTRUMENT_DECLINED",
                    "The instrument presented was either declined by the "
                    "processor or bank, or it can't be used for this payment.",
                )
            sale_id = new_id("SALE", 13)
            self.state.sales[sale_id] = {
                "id": sale_id,
                "state": "completed",
                "total": payment["total"],
                "currency": payment["currency"],
                "refunded": Decimal("0"),
                "parent_payment": payment_id,
            }
            payment["state"] = "approved"
            payment["sale_id"] = sale_id
            return 200, self._payment_body(payment)

    def _sale_body(self, sale: dict) -> dict:
        return {
            "id": sale["id"],
            "state": sale["state"],
            "amount": {"total": sale["total"], "currency": sale["currency"]},
            "parent_payment": sale["parent_payment"],
        }

    def _refund(self, sale_id: str, data: dict) -> tuple[int, dict]:
        with self.lock:
            sale = self.state.sales.get(sale_id)
            if sale is None:
                raise ApiError(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            remaining = Decimal(sale["total"]) - sale["refunded"]
            if remaining <= 0:
                raise ApiError(
                    400,
                    "TRANSACTION_ALREADY_REFUNDED",
                    "Request was refused. This transaction has already been fully refunded.",
                )
            amount = data.get("amount")
            if amount:
                try:
                    value = money(amount.get("total"))
                except ValueError:
                    raise ApiError(
                        400,
                        "VALIDATION_ERROR",
                        "Invalid request - see details",
                        [{"field": "amount.total", "issue": "Amount must be positive, 2 decimals"}],
                    ) from None
                if amount.get("currency") != sale["currency"]:
                    raise ApiError(
                        400,
                        "VALIDATION_ERROR",
                        "Invalid request - see details",
                        [{"field": "amount.currency", "issue": "Currency does not match the sale"}],
                    )
                if value > remaining:
                    raise ApiError(
                        400,
                        "REFUND_EXCEEDED_TRANSACTION_AMOUNT",
                        "Refund amount exceeds the remaining transaction amount.",
                    )
            else:
                value = remaining
            sale["refunded"] += value
            sale["state"] = "refunded" if sale["refunded"] == Decimal(sale["total"]) else "partially_refunded"
            refund_id = new_id("REF", 14)
            return 201, {
                "id": refund_id,
                "state": "completed",
                "amount": {"total": str(value), "currency": sale["currency"]},
                "sale_id": sale_id,
                "parent_payment": sale["parent_payment"],
            }
