"""The PayPal emulator: our own small PayPal (like stripe-mock) for development and tests, state in memory.

It speaks the parts of PayPal's REST API the gateway uses, serves the pages PayPal shows a browser,
and can be told to fail, so every path of the gateway can be driven through the real SDK over HTTP.

API (on the same origin as the pages):
  POST /v1/oauth2/token                         client credentials (Basic auth)
  POST /v2/checkout/orders                      create an order (intent CAPTURE); links[approve] is /checkoutnow
  GET  /v2/checkout/orders/<id>                 the order, with its capture once captured
  POST /v2/checkout/orders/<id>/capture         after the buyer approved it: one capture per order
  GET  /v2/payments/captures/<id>
  POST /v2/payments/captures/<id>/refund        full ({}) or partial ({"amount": {"value", "currency_code"}})
  GET  /v2/payments/refunds/<id>
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
  a buyer (the address approving an order on /checkoutnow) whose part before @ contains
    "declined": the capture answers 422 INSTRUMENT_DECLINED; the order stays APPROVED, and the buyer
      may approve it again on the page with another account (PayPal's "choose another way to pay");
    "refused": the capture is DECLINED (the order is COMPLETED; a new order is needed);
    "pending": the capture is PENDING (status_details.reason PENDING_REVIEW); the first read of the
      order or capture after that finds it COMPLETED, or DECLINED if the address also contains "denied";
    "echeck": a refund of their capture is PENDING (reason ECHECK) until it is read once.
  Otherwise a capture is COMPLETED, with a seller_receivable_breakdown whose paypal_fee is 3.49% + 0.49.
  A capture or refund of what is not there answers 404 RESOURCE_NOT_FOUND; a second capture 422
  ORDER_ALREADY_CAPTURED; a capture before approval 422 ORDER_NOT_APPROVED; a refund of a refunded
  capture 422 CAPTURE_FULLY_REFUNDED (more than is left: REFUND_AMOUNT_EXCEEDED; of a PENDING or
  DECLINED capture: REFUND_NOT_ALLOWED). 422 errors carry the reason as details[0].issue.
  a payout batch of 100,000.00 or more: 422 INSUFFICIENT_FUNDS.
A POST with a PayPal-Request-Id PayPal has already answered gets the same answer again, as PayPal does;
the same id with another body answers 400 DUPLICATE_REQUEST_ID.

Control (tests, or a developer with curl):
  POST /_emulator/faults {"fault": "timeout" | "server_error" | "accept_then_timeout" | "refuse",
                          "path": "/v1/payments/payouts", "times": 1, "issue": "REFUND_FAILED_INSUFFICIENT_FUNDS"}
      the next matching API request(s) (by path prefix) hang without an answer, answer 503 without
      acting, act and then hang (the answer is lost, as when a connection drops after PayPal processed
      the call), or answer 422 UNPROCESSABLE_ENTITY with that issue without acting.
  GET  /_emulator/requests    every API request seen: method, path, PayPal-Request-Id
  POST /_emulator/reset       forget everything but the access tokens issued
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
