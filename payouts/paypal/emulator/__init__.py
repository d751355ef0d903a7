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
  GET  /v1/payments/payouts/<batch id>          the batch and its items (?page=&page_size=&total_required=)
  GET  /v1/payments/payouts-item/<item id>
  POST /v1/payments/payouts-item/<item id>/cancel   an UNCLAIMED item: its money comes back (RETURNED)
  POST /v1/identity/openidconnect/tokenservice  Log in with PayPal: code → access token
  GET|POST /v1/identity/openidconnect/userinfo  e-mail, payer id (with the paypalattributes scope)
Pages: /checkoutnow (Approve / Cancel), /webapps/auth/protocol/openidconnect/v1/authorize (log in / Cancel).

Rules tests can use, on e-mail addresses (a payout receiver, the account a buyer or SME logs in with):
  the part before @ contains "unclaimed", "failed", "returned", "pending", "onhold", "blocked",
  "refunded" or "reversed": a payout item to it ends UNCLAIMED, FAILED, RETURNED, stays PENDING, ends
  ONHOLD, BLOCKED or REFUNDED, or ends SUCCESS and is REVERSED at the read after that (otherwise
  SUCCESS); a PAYPAL_ID receiver follows the rule of the address that logged in with that payer id.
  The first read of a batch (page 1, or one of its items) shows the items PENDING; later reads show
  how they ended. An UNCLAIMED item can be cancelled (POST /v1/payments/payouts-item/<id>/cancel):
  it becomes RETURNED.
  a buyer whose address contains "declined": executing their payment answers 400 INSTRUMENT_DECLINED.
  a buyer whose address contains "pending" (before @): the payment executes, but its sale stays
  "pending" (reason_code PAYMENT_REVIEW): PayPal approved it yet has not captured the money.
  a payout batch of 100,000.00 or more, or over the funds limit set: 422 INSUFFICIENT_FUNDS. More
  than 15,000 items, or a sender_item_id twice in a batch: 400 VALIDATION_ERROR. A sender_batch_id
  used before: 400 USER_BUSINESS_ERROR whose links[rel=self] is the batch that has it.
A POST with a PayPal-Request-Id PayPal has already answered gets the same answer again, as PayPal does;
the same id with another body answers 400 DUPLICATE_REQUEST_ID.

Control (tests, or a developer with curl):
  POST /_emulator/faults {"fault": "timeout" | "server_error" | "accept_then_timeout",
                          "path": "/v1/payments/payouts", "times": 1}
      the next matching API request(s) hang without an answer, answer 503 without acting, or act and
      then hang (the answer is lost, as when a connection drops after PayPal processed the call).
  GET  /_emulator/requests    every API request seen: method, path, PayPal-Request-Id
  POST /_emulator/reset       forget everything but the access tokens issued
  POST /_emulator/payouts/funds {"value": "250.00" | null}   what PayPal can pay out from now on
  POST /_emulator/payouts/item-status {"sender_item_id": …, "transaction_status": "RETURNED"}   a later
      transition, as PayPal makes them (UNCLAIMED → RETURNED, SUCCESS → REVERSED)
  POST /_emulator/payouts/forget-request-ids   PayPal keeps request ids for a while only
  GET  /_emulator/payouts/sender-item-ids     how many accepted items carry each sender_item_id
"""

from .client import EmulatorClient
from .common import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, payer_id_for, payout_outcome
from .core import PayPalEmulator

__all__ = [
    "EMULATOR_CLIENT_ID",
    "EMULATOR_CLIENT_SECRET",
    "EmulatorClient",
    "PayPalEmulator",
    "payer_id_for",
    "payout_outcome",
]
