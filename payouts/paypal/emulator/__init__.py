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
