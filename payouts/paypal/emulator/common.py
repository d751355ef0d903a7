"""What the emulator's parts share: its credentials, the rules on e-mail addresses, its state, errors."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

EMULATOR_CLIENT_ID = "emulator-client-id"
EMULATOR_CLIENT_SECRET = "emulator-client-secret"
PAYPAL_ATTRIBUTES_SCOPE = "https://uri.paypal.com/services/paypalattributes"
FAULTS = {"timeout", "server_error", "accept_then_timeout", "refuse"}
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


def new_id(prefix: str, length: int = 17) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


class ApiError(Exception):
    def __init__(self, status: int, name: str, message: str, details: list | None = None) -> None:
        super().__init__(message)
        self.status, self.name, self.message, self.details = status, name, message, details or []
        self.links: list[dict] = []

    def as_answer(self) -> tuple[int, dict]:
        return self.status, self.body()

    def body(self) -> dict:
        body = {"name": self.name, "message": self.message, "debug_id": new_id("", 13).lower()}
        if self.details:
            body["details"] = self.details
        if self.links:
            body["links"] = self.links
        return body


@dataclass
class Fault:
    kind: str
    path: str
    times: int
    issue: str = ""  # "refuse": the 422 issue PayPal answers with (e.g. REFUND_FAILED_INSUFFICIENT_FUNDS)


@dataclass
class State:
    tokens: set[str] = field(default_factory=set)
    orders: dict[str, dict] = field(default_factory=dict)
    captures: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    invoice_ids: set[str] = field(default_factory=set)
    batches: dict[str, dict] = field(default_factory=dict)
    sender_batch_ids: set[str] = field(default_factory=set)
    items: dict[str, dict] = field(default_factory=dict)
    auth_codes: dict[str, dict] = field(default_factory=dict)
    login_tokens: dict[str, dict] = field(default_factory=dict)
    emails_by_payer_id: dict[str, str] = field(default_factory=dict)
    # (path, PayPal-Request-Id) → (digest of the request body, the answer given)
    answered: dict[tuple[str, str], tuple[str, tuple[int, dict]]] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


def money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError from None
    if amount != amount.quantize(Decimal("0.01")) or amount <= 0:
        raise ValueError
    return amount
