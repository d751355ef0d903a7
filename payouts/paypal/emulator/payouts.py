"""The emulator's v1 payouts: create a batch, read a batch and an item; items end by the receiver's rule."""

from __future__ import annotations

import threading
from decimal import Decimal

from .common import (
    INSUFFICIENT_FUNDS_FROM,
    ApiError,
    State,
    money,
    new_id,
    payout_outcome,
)


class PayoutsApi:
    lock: threading.Lock
    state: State
    url: str

    def _create_payout(self, data: dict) -> tuple[int, dict]:
        header = data.get("sender_batch_header") or {}
        sender_batch_id = str(header.get("sender_batch_id") or "")
        items = data.get("items") or []
        details = []
        if not sender_batch_id:
            details.append({"field": "sender_batch_header.sender_batch_id", "issue": "Required field is missing"})
        if not items:
            details.append({"field": "items", "issue": "At least one item is required"})
        total = Decimal("0")
        for n, item in enumerate(items):
            try:
                total += money((item.get("amount") or {}).get("value"))
            except ValueError:
                details.append({"field": f"items[{n}].amount.value", "issue": "Amount must be positive, 2 decimals"})
            if len(str((item.get("amount") or {}).get("currency", ""))) != 3:
                details.append({"field": f"items[{n}].amount.currency", "issue": "Currency code is invalid"})
            if not item.get("receiver"):
                details.append({"field": f"items[{n}].receiver", "issue": "Receiver is invalid"})
            if item.get("recipient_type", "EMAIL") not in {"EMAIL", "PAYPAL_ID", "PHONE"}:
                details.append({"field": f"items[{n}].recipient_type", "issue": "Recipient type is invalid"})
        if details:
            raise ApiError(400, "VALIDATION_ERROR", "Invalid request - see details", details)
        if total >= INSUFFICIENT_FUNDS_FROM:
            raise ApiError(422, "INSUFFICIENT_FUNDS", "Sender does not have sufficient funds.")
        with self.lock:
            if sender_batch_id in self.state.sender_batch_ids:
                raise ApiError(
                    400,
                    "USER_BUSINESS_ERROR",
                    "User business error.",
                    [
                        {
                            "field": "SENDER_BATCH_ID",
                            "location": "body",
                            "issue": "Batch with given sender_batch_id already exists",
                        }
                    ],
                )
            self.state.sender_batch_ids.add(sender_batch_id)
            batch_id = new_id("", 13)
            batch = {"id": batch_id, "sender_batch_header": header, "status": "PENDING", "item_ids": [], "read": False}
            for item in items:
                item_id = new_id("", 13)
                receiver = str(item["receiver"])
                email = receiver
                if item.get("recipient_type") == "PAYPAL_ID":
                    email = self.state.emails_by_payer_id.get(receiver, "")
                final, error = payout_outcome(email) if email else ("SUCCESS", "")
                self.state.items[item_id] = {
                    "payout_item_id": item_id,
                    "payout_batch_id": batch_id,
                    "transaction_status": "PENDING",
                    "final": final,
                    "error": error,
                    "payout_item": {
                        "recipient_type": item.get("recipient_type", "EMAIL"),
                        "amount": {"value": str(item["amount"]["value"]), "currency": item["amount"]["currency"]},
                        "receiver": receiver,
                        "note": item.get("note", ""),
                        "sender_item_id": item.get("sender_item_id", ""),
                    },
                }
                batch["item_ids"].append(item_id)
            self.state.batches[batch_id] = batch
            return 201, {
                "batch_header": {
                    "payout_batch_id": batch_id,
                    "batch_status": "PENDING",
                    "sender_batch_header": header,
                },
                "links": [{"href": f"{self.url}/v1/payments/payouts/{batch_id}", "rel": "self", "method": "GET"}],
            }

    def _settle(self, batch: dict) -> None:
        """PayPal processes a batch after accepting it: here, by the first read after the create."""
        for item_id in batch["item_ids"]:
            item = self.state.items[item_id]
            item["transaction_status"] = item["final"]
            if item["final"] == "SUCCESS":
                item.setdefault("transaction_id", new_id("TX", 15))
        batch["status"] = "SUCCESS"

    def _item_body(self, item: dict) -> dict:
        body = {k: v for k, v in item.items() if k not in {"final", "error"}}
        if item["transaction_status"] not in {"PENDING", "SUCCESS"} and item["error"]:
            body["errors"] = {"name": item["error"], "message": f"The payout item is {item['transaction_status']}."}
        return body

    def _batch(self, batch_id: str) -> dict:
        with self.lock:
            batch = self.state.batches.get(batch_id)
            if batch is None:
                raise ApiError(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            if batch["read"]:
                self._settle(batch)
            batch["read"] = True
            items = [self._item_body(self.state.items[i]) for i in batch["item_ids"]]
            total = sum((Decimal(i["payout_item"]["amount"]["value"]) for i in items), Decimal("0"))
            currency = items[0]["payout_item"]["amount"]["currency"] if items else ""
            return {
                "batch_header": {
                    "payout_batch_id": batch_id,
                    "batch_status": batch["status"],
                    "sender_batch_header": batch["sender_batch_header"],
                    "amount": {"value": str(total), "currency": currency},
                },
                "items": items,
            }

    def _item(self, item_id: str) -> dict:
        with self.lock:
            item = self.state.items.get(item_id)
            if item is None:
                raise ApiError(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            batch = self.state.batches[item["payout_batch_id"]]
            if batch["read"]:
                self._settle(batch)
            batch["read"] = True
            return self._item_body(item)
