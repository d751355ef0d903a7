"""The PayPal gateway, driving the real paypalrestsdk over HTTP against the emulator: each call, error and fault."""

import json
import logging
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from payouts.paypal.gateway import (
    PayoutRequestItem,
    PayPalDeclined,
    PayPalDuplicateBatch,
    PayPalGateway,
    PayPalInvalidRequest,
    PayPalUnavailable,
    get_gateway,
)


@pytest.fixture
def gateway(paypal_emulator):
    return get_gateway()


def post_requests(emulator, path_part):
    return [r for r in emulator.requests_seen() if r["method"] == "POST" and path_part in r["path"]]


# --- Payouts ---


def payout_items(*receivers, cents=1000):
    return [
        PayoutRequestItem(sender_item_id=f"item-{n}", amount_cents=cents, currency="USD", receiver=receiver)
        for n, receiver in enumerate(receivers, 1)
    ]


def test_a_payout_batch_is_pending_then_each_item_ends_by_the_receivers_rule(gateway):
    created = gateway.create_payout_batch(
        sender_batch_id="payout-run:2027-01-01",
        items=payout_items("sme@example.com", "sme+unclaimed@example.com", "failed@example.com", "returned@x.org"),
    )
    assert (created.sender_batch_id, created.batch_status) == ("payout-run:2027-01-01", "PENDING")
    first = gateway.get_payout_batch(payout_batch_id=created.payout_batch_id)
    assert {item.transaction_status for item in first.items} == {"PENDING"}
    batch = gateway.get_payout_batch(payout_batch_id=created.payout_batch_id)
    assert batch.batch_status == "SUCCESS"
    statuses = {item.sender_item_id: (item.transaction_status, item.amount_cents) for item in batch.items}
    assert statuses == {
        "item-1": ("SUCCESS", 1000),
        "item-2": ("UNCLAIMED", 1000),
        "item-3": ("FAILED", 1000),
        "item-4": ("RETURNED", 1000),
    }
    failed = gateway.get_payout_item(payout_item_id=batch.items[2].payout_item_id)
    assert (failed.transaction_status, failed.error_name) == ("FAILED", "RECEIVER_ACCOUNT_LOCKED")
    assert failed.payout_batch_id == created.payout_batch_id


def test_batches_and_items_are_read_at_their_own_url_not_the_sdks_broken_one(gateway, paypal_emulator):
    created = gateway.create_payout_batch(sender_batch_id="run-url", items=payout_items("sme@example.com"))
    gateway.get_payout_batch(payout_batch_id=created.payout_batch_id)
    paths = [r["path"] for r in paypal_emulator.requests_seen() if r["method"] == "GET"]
    assert paths == [f"/v1/payments/payouts/{created.payout_batch_id}"]


def test_a_reused_sender_batch_id_is_a_duplicate_batch_error(gateway):
    gateway.create_payout_batch(sender_batch_id="run-dup", items=payout_items("sme@example.com"))
    with pytest.raises(PayPalDuplicateBatch):
        gateway.create_payout_batch(
            sender_batch_id="run-dup", items=payout_items("sme@example.com"), request_id="another-id"
        )


def test_a_payout_paypal_cannot_fund_is_declined(gateway):
    with pytest.raises(PayPalDeclined) as error:
        gateway.create_payout_batch(sender_batch_id="run-big", items=payout_items("a@example.com", cents=10_000_000))
    assert (error.value.status, error.value.name) == (422, "INSUFFICIENT_FUNDS")


def test_an_unknown_batch_or_item_is_an_invalid_request(gateway):
    with pytest.raises(PayPalInvalidRequest):
        gateway.get_payout_batch(payout_batch_id="NOSUCHBATCH")
    with pytest.raises(PayPalInvalidRequest):
        gateway.get_payout_item(payout_item_id="NOSUCHITEM")
    with pytest.raises(PayPalInvalidRequest, match="not a PayPal"):
        gateway.get_payout_item(payout_item_id="../../v1/oauth2/token")


# --- Faults: timeouts and 5xx are retried with the same PayPal-Request-Id; nothing happens twice. ---


def test_a_timeout_is_retried_with_the_same_request_id_and_the_batch_is_created_once(gateway, paypal_emulator):
    paypal_emulator.add_fault("timeout", path="/v1/payments/payouts")
    created = gateway.create_payout_batch(sender_batch_id="run-timeout", items=payout_items("sme@example.com"))
    sent = post_requests(paypal_emulator, "/v1/payments/payouts")
    assert [r["request_id"] for r in sent] == ["run-timeout", "run-timeout"]
    assert list(paypal_emulator.state.batches) == [created.payout_batch_id]


def test_an_answer_lost_after_paypal_acted_is_recovered_without_acting_twice(gateway, paypal_emulator):
    paypal_emulator.add_fault("accept_then_timeout", path="/v1/payments/payouts")
    created = gateway.create_payout_batch(sender_batch_id="run-lost", items=payout_items("sme@example.com"))
    assert [r["request_id"] for r in post_requests(paypal_emulator, "/v1/payments/payouts")] == ["run-lost"] * 2
    # PayPal acted on the first call; the retry got that first answer, not a second batch or a duplicate error.
    assert list(paypal_emulator.state.batches) == [created.payout_batch_id]


def test_reads_are_retried_after_a_timeout(gateway, paypal_emulator):
    created = gateway.create_payout_batch(sender_batch_id="run-read", items=payout_items("sme@example.com"))
    paypal_emulator.add_fault("timeout", path="/v1/payments/payouts/")
    assert gateway.get_payout_batch(payout_batch_id=created.payout_batch_id).payout_batch_id == created.payout_batch_id


def test_paypal_still_down_after_the_retries_is_temporarily_unavailable(gateway, paypal_emulator, settings):
    paypal_emulator.add_fault("server_error", path="/v1/payments/payouts", times=3)
    with pytest.raises(PayPalUnavailable, match="try again"):
        gateway.create_payout_batch(sender_batch_id="run-down", items=payout_items("sme@example.com"))
    assert len(post_requests(paypal_emulator, "/v1/payments/payouts")) == settings.PAYPAL_RETRIES + 1


def test_every_call_gives_up_at_its_timeout_instead_of_hanging(paypal_emulator):
    gateway = PayPalGateway(
        base_url=paypal_emulator.url,
        client_id=paypal_emulator.client_id,
        client_secret=paypal_emulator.client_secret,
        timeout=0.5,
        retries=0,
    )
    paypal_emulator.add_fault("timeout", path="/v1/payments/payouts/")
    began = time.monotonic()
    with pytest.raises(PayPalUnavailable):
        gateway.get_payout_batch(payout_batch_id="ANYBATCH")
    assert time.monotonic() - began < 3  # the emulator would have held the call for 10 s


class HtmlErrorPage(BaseHTTPRequestHandler):
    """What may stand in front of PayPal (a proxy, a load balancer): a token, then HTML error pages."""

    status = 400
    calls: list[str] = []

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - the stdlib's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/v1/oauth2/token":
            status, kind = 200, "application/json"
            body = json.dumps({"access_token": "t", "token_type": "Bearer", "expires_in": 600}).encode()
        else:
            self.calls.append(self.headers.get("PayPal-Request-Id", ""))
            status, kind = self.status, "text/html"
            body = b"<html><body>Error for private.person@example.com</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RefusesEveryToken(HtmlErrorPage):
    """A PayPal that issues tokens but answers 401 to every API call with them (a disabled app, say)."""

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.calls.append(self.path)
        body = json.dumps({"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_401_is_retried_once_with_a_new_token_not_until_the_stack_overflows():
    RefusesEveryToken.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusesEveryToken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = PayPalGateway(
            base_url=f"http://127.0.0.1:{server.server_address[1]}", client_id="a", client_secret="b", backoff=0
        )
        with pytest.raises(PayPalInvalidRequest, match="PAYPAL_CLIENT_ID"):
            gateway.get_payout_batch(payout_batch_id="ANYBATCH")
    finally:
        server.shutdown()
        server.server_close()
    assert len(RefusesEveryToken.calls) == 2


class CutsEveryAnswerOff(HtmlErrorPage):
    """A connection that drops in the middle of PayPal's answer (after PayPal acted)."""

    def do_POST(self):  # noqa: N802 - the stdlib's name
        if self.path == "/v1/oauth2/token":
            return super().do_POST()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.calls.append(self.headers.get("PayPal-Request-Id", ""))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "500")
        self.end_headers()
        self.wfile.write(b'{"batch_header": {"payout_batch_id": ')
        self.close_connection = True


def test_an_answer_cut_off_midway_is_retried_with_the_same_request_id_then_unavailable():
    CutsEveryAnswerOff.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CutsEveryAnswerOff)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = PayPalGateway(
            base_url=f"http://127.0.0.1:{server.server_address[1]}", client_id="a", client_secret="b", backoff=0
        )
        with pytest.raises(PayPalUnavailable, match="cut off"):
            gateway.create_payout_batch(sender_batch_id="run-cut", items=payout_items("sme@example.com"))
    finally:
        server.shutdown()
        server.server_close()
    assert CutsEveryAnswerOff.calls == ["run-cut"] * 3


@pytest.mark.parametrize("status", [400, 200])
def test_an_answer_that_is_not_json_is_temporarily_unavailable_and_keeps_no_body(status):
    HtmlErrorPage.status, HtmlErrorPage.calls = status, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), HtmlErrorPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = PayPalGateway(
            base_url=f"http://127.0.0.1:{server.server_address[1]}", client_id="a", client_secret="b", backoff=0
        )
        with pytest.raises(PayPalUnavailable, match="could not be read") as error:
            gateway.create_payout_batch(sender_batch_id="run-html", items=payout_items("sme@example.com"))
    finally:
        server.shutdown()
        server.server_close()
    assert HtmlErrorPage.calls == ["run-html"] * 3  # retried with the same request id
    assert "private.person" not in "".join(traceback.format_exception(error.value))


def test_wrong_credentials_say_which_settings_to_check(paypal_emulator):
    gateway = PayPalGateway(base_url=paypal_emulator.url, client_id="nobody", client_secret="wrong", backoff=0)
    with pytest.raises(PayPalInvalidRequest, match="PAYPAL_CLIENT_ID"):
        gateway.get_payout_batch(payout_batch_id="ANYBATCH")


def test_no_paypal_answer_with_personal_data_reaches_the_logs(gateway, caplog):
    from tests.payouts.test_checkout_gateway import captured

    caplog.set_level(logging.DEBUG)
    captured(gateway, key="log", email="private.person@example.com")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "private.person@example.com" not in logged
    assert "emulator-client-secret" not in logged and "Basic " not in logged


def test_faults_and_the_request_record_are_reachable_over_http_for_other_processes(gateway, paypal_emulator):
    from payouts.paypal.emulator import EmulatorClient

    control = EmulatorClient(paypal_emulator.url)
    control.fail_next("server_error", path="/v1/payments/payouts")
    gateway.create_payout_batch(sender_batch_id="run-http", items=payout_items("sme@example.com"))
    sent = [r for r in control.requests() if r["path"] == "/v1/payments/payouts"]
    assert [r["request_id"] for r in sent] == ["run-http", "run-http"]
    control.reset()
    assert control.requests() == [] and paypal_emulator.state.batches == {}
