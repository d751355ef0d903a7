"""The PayPal emulator: our own small PayPal (like stripe-mock) for development and tests, state in memory.

It speaks the parts of PayPal's REST API the gateway uses, serves the pages PayPal shows a browser,
and can be told to fail, so every path of the gateway can be driven through the real SDK over HTTP.

API (on the same origin as the pages):
  POST /v1/oauth2/token                         client credentials (Basic auth)
  POST /v1/payments/payment                     create a payment; links[approval_url] is /checkoutnow
  GET  /v1/payments/payment/<id>
  POST /v1/payments/payment/<id>/execute        after the buyer approved it
  POST /v1/payments/sale/<id>/refund            full ({}) or partial ({"amount": …})
  POST /v1/payments/payouts                     create a batch (items PENDING)
  GET  /v1/payments/payouts/<batch id>          the batch and its items
  GET  /v1/payments/payouts-item/<item id>
  POST /v1/identity/openidconnect/tokenservice  Log in with PayPal: code → access token
  GET|POST /v1/identity/openidconnect/userinfo  e-mail, payer id (with the paypalattributes scope)
Pages: /checkoutnow (Approve / Cancel), /webapps/auth/protocol/openidconnect/v1/authorize (log in / Cancel).

Rules tests can use, on e-mail addresses (a payout receiver, the account a buyer or SME logs in with):
  the part before @ contains "unclaimed", "failed", "returned" or "pending": a payout item to it ends
  UNCLAIMED, FAILED or RETURNED, or stays PENDING (otherwise SUCCESS); a PAYPAL_ID receiver follows the
  rule of the address that logged in with that payer id. The first read of a batch (or of one of its
  items) shows the items PENDING; later reads show how they ended.
  a buyer whose address contains "declined": executing their payment answers 400 INSTRUMENT_DECLINED.
  a payout batch of 100,000.00 or more: 422 INSUFFICIENT_FUNDS.
A POST with a PayPal-Request-Id PayPal has already answered gets the same answer again, as PayPal does.

Control (tests, or a developer with curl):
  POST /_emulator/faults {"fault": "timeout" | "server_error" | "accept_then_timeout",
                          "path": "/v1/payments/payouts", "times": 1}
      the next matching API request(s) hang without an answer, answer 503 without acting, or act and
      then hang (the answer is lost, as when a connection drops after PayPal processed the call).
  GET  /_emulator/requests    every API request seen: method, path, PayPal-Request-Id
  POST /_emulator/reset       forget everything but the access tokens issued
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

EMULATOR_CLIENT_ID = "emulator-client-id"
EMULATOR_CLIENT_SECRET = "emulator-client-secret"
PAYPAL_ATTRIBUTES_SCOPE = "https://uri.paypal.com/services/paypalattributes"
FAULTS = {"timeout", "server_error", "accept_then_timeout"}
INSUFFICIENT_FUNDS_FROM = Decimal("100000.00")


def payer_id_for(email: str) -> str:
    """PayPal payer ids are 13 characters; ours derive from the address so they are the same every run."""
    digest = hashlib.sha256(email.strip().lower().encode()).digest()
    return base64.b32encode(digest).decode()[:13]


def payout_outcome(email: str) -> tuple[str, str]:
    """(final transaction_status, error name) of a payout item to this address."""
    local = email.split("@", 1)[0].lower()
    for word, status, error in (
        ("unclaimed", "UNCLAIMED", "RECEIVER_UNREGISTERED"),
        ("failed", "FAILED", "RECEIVER_ACCOUNT_LOCKED"),
        ("returned", "RETURNED", "RECEIVER_UNCONFIRMED"),
        ("pending", "PENDING", ""),
    ):
        if word in local:
            return status, error
    return "SUCCESS", ""


def _new_id(prefix: str, length: int = 17) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


class ApiError(Exception):
    def __init__(self, status: int, name: str, message: str, details: list | None = None) -> None:
        super().__init__(message)
        self.status, self.name, self.message, self.details = status, name, message, details or []

    def body(self) -> dict:
        body = {"name": self.name, "message": self.message, "debug_id": _new_id("", 13).lower()}
        if self.details:
            body["details"] = self.details
        return body


@dataclass
class Fault:
    kind: str
    path: str
    times: int


@dataclass
class State:
    tokens: set[str] = field(default_factory=set)
    payments: dict[str, dict] = field(default_factory=dict)
    payments_by_token: dict[str, str] = field(default_factory=dict)
    sales: dict[str, dict] = field(default_factory=dict)
    batches: dict[str, dict] = field(default_factory=dict)
    sender_batch_ids: set[str] = field(default_factory=set)
    items: dict[str, dict] = field(default_factory=dict)
    auth_codes: dict[str, dict] = field(default_factory=dict)
    login_tokens: dict[str, dict] = field(default_factory=dict)
    emails_by_payer_id: dict[str, str] = field(default_factory=dict)
    answered: dict[tuple[str, str], tuple[int, dict]] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError from None
    if amount != amount.quantize(Decimal("0.01")) or amount <= 0:
        raise ValueError
    return amount


class PayPalEmulator:
    """The emulator's state and behaviour; `serve()` puts it on 127.0.0.1 in a thread."""

    def __init__(
        self,
        *,
        port: int = 0,
        client_id: str = EMULATOR_CLIENT_ID,
        client_secret: str = EMULATOR_CLIENT_SECRET,
        hang_seconds: float = 30.0,
    ) -> None:
        self.port = port
        self.client_id, self.client_secret = client_id, client_secret
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.state = State()
        self._release = threading.Event()  # set to free hanging requests (reset, stop)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- Running ---

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self) -> PayPalEmulator:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="paypal-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever_started(self) -> None:
        """Block until the server stops (after serve())."""
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.5)  # a timeout, so Ctrl-C is noticed

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        with self.lock:
            # Issued access tokens stay valid, as PayPal's do: a client that cached one keeps working.
            self.state = State(tokens=self.state.tokens)
            self._release.set()
            self._release = threading.Event()

    # --- Faults and the record of requests (tests use these directly or over /_emulator/) ---

    def add_fault(self, kind: str, *, path: str = "/v1/payments", times: int = 1) -> None:
        if kind not in FAULTS:
            raise ValueError(f"fault is one of {sorted(FAULTS)}")
        with self.lock:
            self.state.faults.append(Fault(kind, path, times))

    def requests_seen(self) -> list[dict]:
        with self.lock:
            return list(self.state.requests)

    def _take_fault(self, path: str) -> str | None:
        with self.lock:
            for fault in self.state.faults:
                if path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.state.faults.remove(fault)
                    return fault.kind
        return None

    def hang(self) -> None:
        self._release.wait(self.hang_seconds)

    # --- API ---

    def api(self, method: str, path: str, headers, body: bytes, query: dict) -> tuple[int, dict] | None:
        """Answer an API call: (status, JSON body), or None for "hang up without an answer"."""
        request_id = headers.get("PayPal-Request-Id", "")
        with self.lock:
            self.state.requests.append({"method": method, "path": path, "request_id": request_id})
        fault = self._take_fault(path)
        if fault == "timeout":
            self.hang()
            return None
        if fault == "server_error":
            return 503, {"name": "SERVICE_UNAVAILABLE", "message": "Service Unavailable.", "debug_id": "emulator"}
        # Idempotency applies to authenticated API calls only: PayPal checks the token first.
        idempotent = method == "POST" and bool(request_id) and path.startswith("/v1/payments")
        if idempotent:
            try:
                self._authorize(headers)
            except ApiError as error:
                return error.status, error.body()
        key = (path, request_id)
        with self.lock:
            replay = self.state.answered.get(key) if idempotent else None
        if replay is not None:
            answer = replay
        else:
            try:
                answer = self._route(method, path, headers, body, query)
            except ApiError as error:
                answer = (error.status, error.body())
            if idempotent and answer[0] < 500:
                with self.lock:
                    self.state.answered[key] = answer
        if fault == "accept_then_timeout":
            self.hang()
            return None
        return answer

    def _route(self, method: str, path: str, headers, body: bytes, query: dict) -> tuple[int, dict]:
        parts = [p for p in path.split("/") if p]
        if path == "/v1/oauth2/token" and method == "POST":
            return self._oauth_token(headers)
        if parts[:3] == ["v1", "identity", "openidconnect"]:
            if parts[3:] == ["tokenservice"] and method == "POST":
                return self._login_token(headers, body)
            if parts[3:] == ["userinfo"]:
                return self._userinfo(headers, body, query)
        self._authorize(headers)
        data = json.loads(body or b"{}") if method == "POST" else {}
        if parts[:3] == ["v1", "payments", "payment"]:
            if len(parts) == 3 and method == "POST":
                return self._create_payment(data)
            if len(parts) == 4 and method == "GET":
                return 200, self._payment(parts[3])
            if len(parts) == 5 and parts[4] == "execute" and method == "POST":
                return self._execute_payment(parts[3], data)
        if parts[:3] == ["v1", "payments", "sale"] and len(parts) == 5 and parts[4] == "refund" and method == "POST":
            return self._refund(parts[3], data)
        if parts[:3] == ["v1", "payments", "payouts"]:
            if len(parts) == 3 and method == "POST":
                return self._create_payout(data)
            if len(parts) == 4 and method == "GET":
                return 200, self._batch(parts[3])
        if parts[:3] == ["v1", "payments", "payouts-item"] and len(parts) == 4 and method == "GET":
            return 200, self._item(parts[3])
        raise ApiError(404, "NOT_FOUND", f"No {method} {path} in the emulator.")

    def _client_ok(self, headers, form: dict | None = None) -> bool:
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
        elif form is not None:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        else:
            return False
        return secrets.compare_digest(client_id, self.client_id) and secrets.compare_digest(secret, self.client_secret)

    def _oauth_token(self, headers) -> tuple[int, dict]:
        if not self._client_ok(headers):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = "A21AA" + secrets.token_urlsafe(24)
        with self.lock:
            self.state.tokens.add(token)
        return 200, {
            "scope": "https://api.paypal.com/v1/payments/.*",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-EMULATOR",
            "expires_in": 32400,
        }

    def _authorize(self, headers) -> None:
        auth = headers.get("Authorization", "")
        with self.lock:
            known = auth.startswith("Bearer ") and auth[7:] in self.state.tokens
        if not known:
            raise ApiError(401, "AUTHENTICATION_FAILURE", "Authentication failed due to invalid credentials.")

    # Payments

    def _create_payment(self, data: dict) -> tuple[int, dict]:
        details = []
        transactions = data.get("transactions") or [{}]
        amount = transactions[0].get("amount") or {}
        try:
            total = _money(amount.get("total"))
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
        payment_id, token = _new_id("PAYID-", 24), _new_id("EC-")
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
            sale_id = _new_id("SALE", 13)
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
                    value = _money(amount.get("total"))
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
            refund_id = _new_id("REF", 14)
            return 201, {
                "id": refund_id,
                "state": "completed",
                "amount": {"total": str(value), "currency": sale["currency"]},
                "sale_id": sale_id,
                "parent_payment": sale["parent_payment"],
            }

    # Payouts

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
                total += _money((item.get("amount") or {}).get("value"))
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
            batch_id = _new_id("", 13)
            batch = {"id": batch_id, "sender_batch_header": header, "status": "PENDING", "item_ids": [], "read": False}
            for item in items:
                item_id = _new_id("", 13)
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
                item.setdefault("transaction_id", _new_id("TX", 15))
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

    # Log in with PayPal

    def issue_code(self, *, client_id: str, redirect_uri: str, scope: str, email: str) -> str:
        code = secrets.token_urlsafe(24)
        email = email.strip().lower()
        with self.lock:
            self.state.auth_codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "email": email,
            }
            self.state.emails_by_payer_id[payer_id_for(email)] = email
        return code

    def _login_token(self, headers, body: bytes) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if not self._client_ok(headers, form):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        with self.lock:
            grant = self.state.auth_codes.pop(form.get("code", ""), None)
            if form.get("grant_type") != "authorization_code" or grant is None:
                return 400, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
            if grant["redirect_uri"] != form.get("redirect_uri", grant["redirect_uri"]):
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"}
            token = secrets.token_urlsafe(24)
            self.state.login_tokens[token] = grant
        return 200, {
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": 28800,
            "refresh_token": secrets.token_urlsafe(24),
            "scope": grant["scope"],
        }

    def _userinfo(self, headers, body: bytes, query: dict) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()} if body else {}
        token = query.get("access_token") or form.get("access_token") or ""
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:]
        with self.lock:
            grant = self.state.login_tokens.get(token)
        if grant is None:
            return 401, {"error": "invalid_token", "error_description": "Access token is invalid"}
        email = grant["email"]
        name = email.split("@")[0].replace(".", " ").title()
        info = {
            "user_id": f"https://www.paypal.com/webapps/auth/identity/user/{hashlib.sha256(email.encode()).hexdigest()[:43]}",
            "name": name,
            "given_name": name.split(" ")[0],
            "family_name": name.split(" ")[-1],
            "email": email,
            "email_verified": True,
            "verified_account": "true",
        }
        if PAYPAL_ATTRIBUTES_SCOPE in grant["scope"].split():
            info["payer_id"] = payer_id_for(email)
        return 200, info


# --- HTTP ---

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · PayPal (emulator)</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#142c8e}}
.note{{background:#fff4e0;padding:.5rem;border-radius:6px;color:#5a3b00}}label{{display:block;margin:1rem 0 .25rem}}
input{{font:inherit;width:100%;padding:.5rem;box-sizing:border-box}}button{{font:inherit;min-height:44px;
padding:.5rem 1rem;margin:1rem .5rem 0 0;border-radius:22px;border:1px solid #0070ba;background:#0070ba;color:#fff}}
button.secondary{{background:#fff;color:#0070ba}}</style></head>
<body><main><p class="note">PayPal emulator: a stand-in for PayPal in development and tests. No money moves.</p>
<h1>{title}</h1>{body}</main></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    emulator: PayPalEmulator
    server_version = "PayPalEmulator/1.0"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass  # quiet: request lines carry tokens and ids

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("PayPal-Debug-Id", "emulator")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _html(self, status: int, title: str, body: str) -> None:
        self._send(status, PAGE.format(title=html.escape(title), body=body).encode(), "text/html; charset=utf-8")

    def _redirect(self, url: str) -> None:
        self._send(302, b"", "text/plain", {"Location": url})

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = self._read_body() if method == "POST" else b""
        try:
            if path.startswith("/v1/"):
                answer = self.emulator.api(method, path, self.headers, body, query)
                if answer is None:
                    self.close_connection = True  # hang up: the client sees a timeout or a dropped connection
                    return
                self._json(*answer)
            elif path.startswith("/_emulator/"):
                self._control(method, path, body)
            elif path == "/checkoutnow":
                self._checkout(method, query, body)
            elif path == "/webapps/auth/protocol/openidconnect/v1/authorize":
                self._login(method, query, body)
            else:
                self._html(404, "Not found", "<p>The emulator has no such page.</p>")
        except (ValueError, KeyError, TypeError) as error:
            self._json(400, {"name": "MALFORMED_REQUEST", "message": f"Malformed request: {error}"})

    def _control(self, method: str, path: str, body: bytes) -> None:
        if path == "/_emulator/requests" and method == "GET":
            self._json(200, self.emulator.requests_seen())
        elif path == "/_emulator/faults" and method == "POST":
            data = json.loads(body or b"{}")
            self.emulator.add_fault(
                data["fault"], path=data.get("path", "/v1/payments"), times=int(data.get("times", 1))
            )
            self._json(201, {"ok": True})
        elif path == "/_emulator/reset" and method == "POST":
            self.emulator.reset()
            self._json(200, {"ok": True})
        elif path == "/_emulator/health":
            self._json(200, {"ok": True})
        else:
            self._json(404, {"name": "NOT_FOUND", "message": "No such control endpoint."})

    def _checkout(self, method: str, query: dict, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()} if method == "POST" else {}
        token = form.get("token") or query.get("token", "")
        payment = self.emulator.payment_for_token(token)
        if payment is None or payment["state"] != "created":
            self._html(404, "Payment not found", "<p>This payment does not exist or is already complete.</p>")
            return
        urls = payment["redirect_urls"]
        if method == "POST" and form.get("action") == "cancel":
            self._redirect(_add_query(urls["cancel_url"], {"token": token}))
            return
        if method == "POST" and form.get("action") == "approve":
            email = form.get("email", "").strip()
            if "@" not in email:
                self._checkout_page(payment, token, "Enter the e-mail address of a PayPal account.")
                return
            self.emulator.approve(token, email)
            self._redirect(
                _add_query(
                    urls["return_url"],
                    {
                        "paymentId": payment["id"],
                        "token": token,
                        "PayerID": payer_id_for(email),
                    },
                )
            )
            return
        self._checkout_page(payment, token)

    def _checkout_page(self, payment: dict, token: str, error: str = "") -> None:
        esc = html.escape
        body = (
            f"<p>Pay <strong>{esc(payment['total'])} {esc(payment['currency'])}</strong>"
            f" for {esc(payment['description'] or 'your purchase')}.</p>"
            + (f'<p role="alert">{esc(error)}</p>' if error else "")
            + f'<form method="post" action="/checkoutnow"><input type="hidden" name="token" value="{esc(token)}">'
            '<label for="email">Pay with the PayPal account</label>'
            '<input id="email" name="email" type="email" value="buyer@example.com" autocomplete="email">'
            '<button type="submit" name="action" value="approve">Approve</button>'
            '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>'
            "</form>"
        )
        self._html(200, "Review your payment", body)

    def _login(self, method: str, query: dict, body: bytes) -> None:
        params = {k: v[0] for k, v in parse_qs(body.decode()).items()} if method == "POST" else query
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        if client_id != self.emulator.client_id or not redirect_uri or params.get("response_type") != "code":
            self._html(
                400,
                "Log in with PayPal",
                "<p>The application's request is invalid (client_id, "
                "redirect_uri and response_type=code are required).</p>",
            )
            return
        state = params.get("state", "")
        if method == "POST" and params.get("action") == "cancel":
            self._redirect(
                _add_query(
                    redirect_uri, {"error": "access_denied", "error_description": "The user cancelled", "state": state}
                )
            )
            return
        if method == "POST" and params.get("action") == "login":
            email = params.get("email", "").strip()
            if "@" in email:
                code = self.emulator.issue_code(
                    client_id=client_id,
                    redirect_uri=redirect_uri,
                    scope=params.get("scope", ""),
                    email=email,
                )
                self._redirect(_add_query(redirect_uri, {"code": code, "state": state}))
                return
        esc = html.escape
        hidden = "".join(
            f'<input type="hidden" name="{esc(k)}" value="{esc(params.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "response_type", "scope", "state")
        )
        error = '<p role="alert">Enter the e-mail address of your PayPal account.</p>' if method == "POST" else ""
        body_html = (
            "<p>An application asks to confirm your PayPal account: your e-mail address and your PayPal account ID.</p>"
            + error
            + f'<form method="post" action="/webapps/auth/protocol/openidconnect/v1/authorize">{hidden}'
            '<label for="email">PayPal account e-mail</label>'
            f'<input id="email" name="email" type="email" value="{esc(params.get("email", ""))}" '
            'autocomplete="email" placeholder="you@example.com">'
            '<button type="submit" name="action" value="login">Log in and agree</button>'
            '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>'
            "</form>"
        )
        self._html(200, "Log in with PayPal", body_html)


def _add_query(url: str, params: dict) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


class EmulatorClient:
    """Drive a running emulator over its control endpoints (e.g. one another process started)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, data: dict | None = None) -> Any:
        import urllib.request

        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(data).encode() if data is not None else None,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own loopback server
            return json.loads(response.read() or b"null")

    def fail_next(self, fault: str, *, path: str = "/v1/payments", times: int = 1) -> None:
        self._call("POST", "/_emulator/faults", {"fault": fault, "path": path, "times": times})

    def requests(self) -> list[dict]:
        return self._call("GET", "/_emulator/requests")

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset", {})


__all__ = ["EMULATOR_CLIENT_ID", "EMULATOR_CLIENT_SECRET", "PayPalEmulator", "EmulatorClient"]
