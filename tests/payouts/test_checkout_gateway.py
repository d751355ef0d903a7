"""Checkout (Orders v2) and refunds (Payments v2) through the gateway: the real SDK over HTTP to the emulator."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from payouts.paypal.gateway import PayPalDeclined, PayPalInvalidRequest, PayPalUnavailable, get_gateway


@pytest.fixture
def gateway(paypal_emulator):
    return get_gateway()


def start_order(gateway, *, cents=4550, key="1"):
    return gateway.create_order(
        amount_cents=cents,
        currency="USD",
        description="Consultation: tax return review",
        reference_id=f"consultation-{key}",
        invoice_id=f"payment-{key}",
        return_url="http://127.0.0.1:9/paid",
        cancel_url="http://127.0.0.1:9/cancelled",
        request_id=f"payment-{key}-create",
    )


def approve_in_browser(approve_url, *, email="buyer@example.com", action="approve"):
    """What the buyer does on PayPal's page: one form POST; returns where PayPal sends the browser back."""
    page = requests.get(approve_url, timeout=5)
    assert page.status_code == 200 and "Approve" in page.text
    token = parse_qs(urlsplit(approve_url).query)["token"][0]
    answer = requests.post(
        approve_url.split("?")[0],
        data={"token": token, "email": email, "action": action},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def captured(gateway, *, cents=4550, key="1", email="buyer@example.com"):
    order = start_order(gateway, cents=cents, key=key)
    approve_in_browser(order.approve_url, email=email)
    return gateway.capture_order(order_id=order.order_id, request_id=f"payment-{key}-capture")


def posts(emulator, path_part):
    return [r for r in emulator.requests_seen() if r["method"] == "POST" and path_part in r["path"]]


# --- Orders ---


def test_an_approved_order_is_captured_with_paypals_fee_and_what_we_receive(gateway):
    order = start_order(gateway, cents=4550)
    assert order.status == "CREATED" and f"/checkoutnow?token={order.order_id}" in order.approve_url
    location, back = approve_in_browser(order.approve_url)
    assert location.startswith("http://127.0.0.1:9/paid?") and back["token"] == order.order_id and back["PayerID"]
    done = gateway.capture_order(order_id=order.order_id, request_id="payment-1-capture")
    assert (done.status, done.reference_id, done.payer_id) == ("COMPLETED", "consultation-1", back["PayerID"])
    capture = done.capture
    assert (capture.status, capture.amount_cents, capture.currency) == ("COMPLETED", 4550, "USD")
    # 3.49% of 45.50 is 1.588 → 1.59, plus 0.49: 2.08; PayPal keeps it, we receive the rest.
    assert (capture.paypal_fee_cents, capture.net_cents) == (208, 4342)
    read = gateway.get_order(order_id=order.order_id)
    assert read.status == "COMPLETED" and read.capture == capture


def test_an_order_is_sent_as_orders_v2_through_the_sdk_transport(gateway, paypal_emulator):
    order = start_order(gateway, key="wire")
    sent = posts(paypal_emulator, "/v2/")
    assert [(r["path"], r["request_id"]) for r in sent] == [("/v2/checkout/orders", "payment-wire-create")]
    assert not [r for r in paypal_emulator.requests_seen() if r["path"].startswith("/v1/payments")]
    assert gateway.get_order(order_id=order.order_id).status == "CREATED"


def test_a_capture_paypal_holds_for_review_is_pending_until_paypal_resolves_it(gateway):
    held = captured(gateway, key="p", email="pending.buyer@example.com")
    assert (held.capture.status, held.capture.reason, held.capture.paypal_fee_cents) == (
        "PENDING",
        "PENDING_REVIEW",
        None,
    )
    later = gateway.get_order(order_id=held.order_id)
    assert later.capture.status == "COMPLETED" and later.capture.paypal_fee_cents == 208


def test_a_pending_capture_may_end_declined(gateway):
    held = captured(gateway, key="pd", email="pending-denied@example.com")
    assert held.capture.status == "PENDING"
    assert gateway.get_order(order_id=held.order_id).capture.status == "DECLINED"


def test_a_declined_capture_takes_nothing(gateway):
    declined = captured(gateway, key="d", email="refused@example.com")
    assert (declined.status, declined.capture.status, declined.capture.net_cents) == ("COMPLETED", "DECLINED", None)


def test_a_declined_instrument_is_a_declined_error_and_the_buyer_may_approve_again_with_another(gateway):
    order = start_order(gateway, key="i")
    approve_in_browser(order.approve_url, email="declined-card@example.com")
    with pytest.raises(PayPalDeclined) as error:
        gateway.capture_order(order_id=order.order_id, request_id="payment-i-capture-1")
    assert (error.value.status, error.value.name) == (422, "INSTRUMENT_DECLINED")
    approve_in_browser(order.approve_url, email="buyer@example.com")
    assert gateway.capture_order(order_id=order.order_id, request_id="payment-i-capture-2").capture.status == (
        "COMPLETED"
    )


def test_an_order_not_approved_is_not_captured(gateway, paypal_emulator):
    order = start_order(gateway, key="n")
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.capture_order(order_id=order.order_id, request_id="payment-n-capture")
    assert (error.value.status, error.value.name) == (422, "ORDER_NOT_APPROVED")
    assert paypal_emulator.state.captures == {}


def test_a_second_capture_of_an_order_is_refused_as_already_captured(gateway, paypal_emulator):
    first = captured(gateway, key="2")
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.capture_order(order_id=first.order_id, request_id="another-id")
    assert error.value.name == "ORDER_ALREADY_CAPTURED"
    assert len(paypal_emulator.state.captures) == 1


def test_a_buyer_who_cancels_is_sent_to_the_cancel_url(gateway):
    order = start_order(gateway, key="c")
    location, back = approve_in_browser(order.approve_url, action="cancel")
    assert location.startswith("http://127.0.0.1:9/cancelled?") and back == {"token": order.order_id}
    assert gateway.get_order(order_id=order.order_id).status == "CREATED"


def test_a_malformed_order_is_an_invalid_request_naming_the_issue(gateway):
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.create_order(
            amount_cents=100,
            currency="DOLLARS",
            description="x",
            reference_id="r",
            invoice_id="i",
            return_url="http://127.0.0.1:9/r",
            cancel_url="http://127.0.0.1:9/c",
            request_id="bad-currency",
        )
    assert (error.value.status, error.value.name) == (400, "INVALID_CURRENCY_CODE")


def test_a_zero_amount_is_refused_before_anything_is_sent(gateway, paypal_emulator):
    with pytest.raises(PayPalInvalidRequest, match="positive number of cents"):
        start_order(gateway, cents=0)
    assert posts(paypal_emulator, "/v2/") == []


def test_unknown_orders_captures_and_refunds_are_not_found(gateway):
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.capture_order(order_id="NOSUCHORDER", request_id="x")
    assert (error.value.status, error.value.name) == (404, "INVALID_RESOURCE_ID")
    with pytest.raises(PayPalInvalidRequest):
        gateway.get_order(order_id="NOSUCHORDER")
    with pytest.raises(PayPalInvalidRequest):
        gateway.refund_capture(capture_id="NOSUCHCAPTURE", request_id="x")
    with pytest.raises(PayPalInvalidRequest, match="not a PayPal"):
        gateway.get_order(order_id="../../v1/oauth2/token")


# --- Refunds ---


def test_a_capture_is_refunded_in_part_then_in_full_and_not_again(gateway):
    capture = captured(gateway, cents=5000, key="r").capture
    part = gateway.refund_capture(capture_id=capture.capture_id, amount_cents=1250, currency="USD", request_id="r-1")
    assert (part.status, part.amount_cents, part.currency) == ("COMPLETED", 1250, "USD")
    with pytest.raises(PayPalDeclined) as error:
        gateway.refund_capture(capture_id=capture.capture_id, amount_cents=4000, currency="USD", request_id="r-2")
    assert error.value.name == "REFUND_AMOUNT_EXCEEDED"
    rest = gateway.refund_capture(capture_id=capture.capture_id, request_id="r-3")
    assert rest.amount_cents == 3750
    with pytest.raises(PayPalDeclined) as error:
        gateway.refund_capture(capture_id=capture.capture_id, request_id="r-4")
    assert (error.value.status, error.value.name) == (422, "CAPTURE_FULLY_REFUNDED")
    assert gateway.get_refund(refund_id=rest.refund_id).status == "COMPLETED"


def test_a_refund_to_an_echeck_is_pending_until_it_clears(gateway):
    capture = captured(gateway, key="e", email="echeck.buyer@example.com").capture
    refund = gateway.refund_capture(capture_id=capture.capture_id, request_id="r-e")
    assert (refund.status, refund.reason) == ("PENDING", "ECHECK")
    assert gateway.get_refund(refund_id=refund.refund_id).status == "PENDING"
    assert gateway.get_refund(refund_id=refund.refund_id).status == "COMPLETED"


def test_a_pending_capture_cannot_be_refunded_yet(gateway):
    capture = captured(gateway, key="pr", email="pending@example.com").capture
    with pytest.raises(PayPalDeclined) as error:
        gateway.refund_capture(capture_id=capture.capture_id, request_id="r-p")
    assert error.value.name == "REFUND_NOT_ALLOWED"


# --- Faults: retried with the same PayPal-Request-Id; nothing happens twice ---


def test_a_capture_whose_answer_was_lost_captures_once(gateway, paypal_emulator):
    order = start_order(gateway, key="lost")
    approve_in_browser(order.approve_url)
    paypal_emulator.add_fault("accept_then_timeout", path="/v2/checkout/orders/")
    done = gateway.capture_order(order_id=order.order_id, request_id="payment-lost-capture")
    assert done.capture.status == "COMPLETED" and len(paypal_emulator.state.captures) == 1
    assert [r["request_id"] for r in posts(paypal_emulator, "/capture")] == ["payment-lost-capture"] * 2


def test_a_capture_still_unanswered_after_the_retries_is_unavailable_and_a_later_retry_captures_once(
    gateway, paypal_emulator, settings
):
    order = start_order(gateway, key="down")
    approve_in_browser(order.approve_url)
    paypal_emulator.add_fault("accept_then_timeout", path="/v2/checkout/orders/", times=1)
    paypal_emulator.add_fault("server_error", path="/v2/checkout/orders/", times=settings.PAYPAL_RETRIES)
    # The first attempt acted and lost its answer; the retries met 503s: the caller cannot know.
    with pytest.raises(PayPalUnavailable):
        gateway.capture_order(order_id=order.order_id, request_id="payment-down-capture")
    later = gateway.capture_order(order_id=order.order_id, request_id="payment-down-capture")
    assert later.capture.status == "COMPLETED" and len(paypal_emulator.state.captures) == 1


def test_a_5xx_on_creation_is_retried_with_the_same_request_id(gateway, paypal_emulator):
    paypal_emulator.add_fault("server_error", path="/v2/checkout/orders")
    order = start_order(gateway, key="5xx")
    assert [r["request_id"] for r in posts(paypal_emulator, "/v2/checkout/orders")] == ["payment-5xx-create"] * 2
    assert list(paypal_emulator.state.orders) == [order.order_id]


def test_a_refund_whose_answer_was_lost_refunds_once(gateway, paypal_emulator):
    capture = captured(gateway, cents=3000, key="rl").capture
    paypal_emulator.add_fault("accept_then_timeout", path="/v2/payments/captures/")
    refund = gateway.refund_capture(capture_id=capture.capture_id, amount_cents=1000, currency="USD", request_id="rl")
    assert refund.amount_cents == 1000
    assert paypal_emulator.state.captures[capture.capture_id]["refunded"] == 10  # ten dollars, not twenty


def test_a_refund_paypal_refuses_carries_paypals_reason(gateway, paypal_emulator):
    capture = captured(gateway, key="rf").capture
    paypal_emulator.add_fault("refuse", path="/v2/payments/captures/", issue="REFUND_FAILED_INSUFFICIENT_FUNDS")
    with pytest.raises(PayPalDeclined) as error:
        gateway.refund_capture(capture_id=capture.capture_id, request_id="rf-1")
    assert (error.value.status, error.value.name) == (422, "REFUND_FAILED_INSUFFICIENT_FUNDS")
    assert paypal_emulator.state.refunds == {}
    assert gateway.refund_capture(capture_id=capture.capture_id, request_id="rf-2").status == "COMPLETED"


def test_a_request_id_reused_for_another_order_is_refused_not_answered_with_the_first(gateway, paypal_emulator):
    first = start_order(gateway, cents=2500, key="same")
    with pytest.raises(PayPalInvalidRequest) as error:
        start_order(gateway, cents=9900, key="same")
    assert error.value.name == "DUPLICATE_REQUEST_ID"
    assert list(paypal_emulator.state.orders) == [first.order_id]


def test_the_refuse_fault_is_reachable_over_http_for_other_processes(gateway, paypal_emulator):
    from payouts.paypal.emulator import EmulatorClient

    capture = captured(gateway, key="http").capture
    EmulatorClient(paypal_emulator.url).fail_next("refuse", path="/v2/payments/captures/", issue="REFUND_NOT_ALLOWED")
    with pytest.raises(PayPalDeclined, match="REFUND_NOT_ALLOWED"):
        gateway.refund_capture(capture_id=capture.capture_id, request_id="http-1")
