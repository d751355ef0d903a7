"""The emulator's v1 payouts: create a batch, read it in pages, read and cancel an item; items end by rules.

As PayPal: at most 15,000 items a batch, each sender_item_id once in a batch, a sender_batch_id used
once (the refusal links to the batch that has it), batch reads paged (page, page_size, total_required),
an UNCLAIMED item can be cancelled (its money returns: RETURNED), and a batch PayPal cannot fund is
refused with 422 INSUFFICIENT_FUNDS (a funds limit tests can set).
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

from .common import (
    INSUFFICIENT_FUNDS_FROM,
    ApiError,
    State,
    money,
    new_id,
    payout_outcome,
)

MAX_ITEMS = 15_000
MAX_PAGE_SIZE = 1_000
# transaction_status values an item can be set to by a test (PayPal's own).
ITEM_STATUSES = frozenset(
    {"SUCCESS", "FAILED", "PENDING", "UNCLAIMED", "RETURNED", "ONHOLD", "BLOCKED", "REFUNDED", "REVERSED"}
)


class PayoutsApi:
    lock: threading.Lock
    state: State
    url: str

    def _route_payouts(self, method: str, parts: list[str], data: dict, query: dict) -> tuple[int, dict] | None:
        if parts[:3] == ["v1", "payments", "payouts"]:
            if len(parts) == 3 and method == "POST":
                return self._create_payout(data)
            if len(parts) == 4 and method == "GET":
                return 200, self._batch(parts[3], query)
        if parts[:3] == ["v1", "payments", "payouts-item"]:
            if len(parts) == 4 and method == "GET":
                return 200, self._item(parts[3])
            if len(parts) == 5 and parts[4] == "cancel" and method == "POST":
                return 200, self._cancel_item(parts[3])
        return None

    # --- Control (tests) ---

    def set_funds(self, value: Decimal | str | None) -> None:
        """What PayPal can pay out from now on (None: no limit but the per-batch rule); batches spend it."""
        with self.lock:
            self.state.payout_funds = None if value is None else Decimal(str(value))

    def set_item_status(self, sender_item_id: str, status: str) -> None:
        """A later transition, as PayPal makes them (UNCLAIMED → RETURNED, SUCCESS → REVERSED, ...)."""
        if status not in ITEM_STATUSES:
            raise ValueError(f"status is one of {sorted(ITEM_STATUSES)}")
        with self.lock:
            for item in self.state.items.values():
                if item["payout_item"]["sender_item_id"] == sender_item_id:
                    item["transaction_status"] = item["final"] = status
                    item["later"] = ""
                    if status in {"SUCCESS", "PENDING"}:
                        item["error"] = ""
                    elif not item["error"]:
                        item["error"] = f"EMULATED_{status}"
                    return
        raise KeyError(sender_item_id)

    def forget_request_ids(self) -> None:
        """PayPal keeps PayPal-Request-Ids for a while only; after that a repeat is a new request."""
        with self.lock:
            self.state.answered.clear()

    def sender_item_id_counts(self) -> Counter:
        """How many accepted payout items carry each sender_item_id (more than 1: paid twice)."""
        with self.lock:
            return Counter(self.state.accepted_sender_item_ids)

    def paid_total(self) -> dict[str, Decimal]:
        """Per currency: the amount of every item accepted, whatever became of it."""
        totals: dict[str, Decimal] = {}
        with self.lock:
            for item in self.state.items.values():
                amount = item["payout_item"]["amount"]
                totals[amount["currency"]] = totals.get(amount["currency"], Decimal("0")) + Decimal(amount["value"])
        return totals

    # --- API ---

    def _create_payout(self, data: dict) -> tuple[int, dict]:
        header = data.get("sender_batch_header") or {}
        sender_batch_id = str(header.get("sender_batch_id") or "")
        items = data.get("items") or []
        details = []
        if not sender_batch_id:
            details.append({"field": "sender_batch_header.sender_batch_id", "issue": "Required field is missing"})
        if not items:
            details.append({"field": "items", "issue": "At least one item is required"})
        if len(items) > MAX_ITEMS:
            details.append({"field": "items", "issue": f"A batch has at most {MAX_ITEMS} items"})
        total = Decimal("0")
        seen: set[str] = set()
        for n, item in enumerate(items[: MAX_ITEMS + 1]):
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
            sender_item_id = str(item.get("sender_item_id") or "")
            if sender_item_id and sender_item_id in seen:
                details.append({"field": f"items[{n}].sender_item_id", "issue": "Duplicate sender_item_id"})
            seen.add(sender_item_id)
        if details:
            raise ApiError(400, "VALIDATION_ERROR", "Invalid request - see details", details)
        with self.lock:
            existing = self.state.batches_by_sender_id.get(sender_batch_id)
            if existing is not None:
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
                    links=[{"href": f"{self.url}/v1/payments/payouts/{existing}", "rel": "self", "method": "GET"}],
                )
            funds = self.state.payout_funds
            if total >= INSUFFICIENT_FUNDS_FROM or (funds is not None and total > funds):
                raise ApiError(422, "INSUFFICIENT_FUNDS", "Sender does not have sufficient funds.")
            if funds is not None:
                self.state.payout_funds = funds - total
            batch_id = new_id("", 13)
            self.state.batches_by_sender_id[sender_batch_id] = batch_id
            batch = {"id": batch_id, "sender_batch_header": header, "status": "PENDING", "item_ids": [], "read": False}
            for item in items:
                item_id = new_id("", 13)
                receiver = str(item["receiver"])
                email = receiver
                if item.get("recipient_type") == "PAYPAL_ID":
                    email = self.state.emails_by_payer_id.get(receiver, "")
                final, error = payout_outcome(email) if email else ("SUCCESS", "")
                later = ""
                if final == "REVERSED":  # paid first, taken back later (a chargeback, a dispute)
                    final, later = "SUCCESS", "REVERSED"
                sender_item_id = str(item.get("sender_item_id", ""))
                self.state.accepted_sender_item_ids.append(sender_item_id)
                self.state.items[item_id] = {
                    "payout_item_id": item_id,
                    "payout_batch_id": batch_id,
                    "transaction_status": "PENDING",
                    "final": final,
                    "later": later,
                    "error": error,
                    "payout_item": {
                        "recipient_type": item.get("recipient_type", "EMAIL"),
                        "amount": {"value": str(item["amount"]["value"]), "currency": item["amount"]["currency"]},
                        "receiver": receiver,
                        "note": item.get("note", ""),
                        "sender_item_id": sender_item_id,
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
        """PayPal processes a batch after accepting it: here, by the first read after the create; an item with
        a later status (SUCCESS → REVERSED) takes it at the read after that."""
        for item_id in batch["item_ids"]:
            item = self.state.items[item_id]
            if batch["status"] == "SUCCESS" and item["later"]:
                item["final"], item["later"] = item["later"], ""
            item["transaction_status"] = item["final"]
            if item["final"] == "SUCCESS":
                item.setdefault("transaction_id", new_id("TX", 15))
        batch["status"] = "SUCCESS"

    def _item_body(self, item: dict) -> dict:
        body = {k: v for k, v in item.items() if k not in {"final", "later", "error"}}
        if item["transaction_status"] not in {"PENDING", "SUCCESS"} and item["error"]:
            body["errors"] = {"name": item["error"], "message": f"The payout item is {item['transaction_status']}."}
        return body

    def _batch(self, batch_id: str, query: dict | None = None) -> dict:
        query = query or {}
        try:
            page = int(query.get("page", 1))
            page_size = int(query.get("page_size", MAX_PAGE_SIZE))
        except ValueError:
            raise ApiError(400, "VALIDATION_ERROR", "page and page_size are numbers.") from None
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ApiError(400, "VALIDATION_ERROR", f"page >= 1 and page_size from 1 to {MAX_PAGE_SIZE}.")
        with self.lock:
            batch = self.state.batches.get(batch_id)
            if batch is None:
                raise ApiError(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            if page == 1:  # one reading of the batch is one view of it, whichever pages follow
                if batch["read"]:
                    self._settle(batch)
                batch["read"] = True
            ids = batch["item_ids"]
            total_pages = max(1, -(-len(ids) // page_size))
            items = [self._item_body(self.state.items[i]) for i in ids[(page - 1) * page_size : page * page_size]]
            total = sum((Decimal(self.state.items[i]["payout_item"]["amount"]["value"]) for i in ids), Decimal("0"))
            currency = self.state.items[ids[0]]["payout_item"]["amount"]["currency"] if ids else ""
            answer = {
                "batch_header": {
                    "payout_batch_id": batch_id,
                    "batch_status": batch["status"],
                    "sender_batch_header": batch["sender_batch_header"],
                    "amount": {"value": str(total), "currency": currency},
                },
                "items": items,
                "links": [],
            }
            if str(query.get("total_required", "")).lower() == "true":
                answer["total_items"], answer["total_pages"] = len(ids), total_pages
            base = f"{self.url}/v1/payments/payouts/{batch_id}?page_size={page_size}"
            if page < total_pages:
                answer["links"].append({"href": f"{base}&page={page + 1}", "rel": "next", "method": "GET"})
            if page > 1:
                answer["links"].append({"href": f"{base}&page={page - 1}", "rel": "prev", "method": "GET"})
            return answer

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

    def _cancel_item(self, item_id: str) -> dict:
        with self.lock:
            item = self.state.items.get(item_id)
            if item is None:
                raise ApiError(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            if item["transaction_status"] != "UNCLAIMED":
                raise ApiError(
                    400,
                    "ITEM_ALREADY_CANCELLED"
                    if item["transaction_status"] == "RETURNED"
                    else "ITEM_CANCELLATION_FAILED",
                    "Only an unclaimed payout item can be cancelled.",
                )
            item["transaction_status"] = item["final"] = "RETURNED"
            item["later"] = ""
            item["error"] = "ITEM_CANCELLED"
            return self._item_body(item)
