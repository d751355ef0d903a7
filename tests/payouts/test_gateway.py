"""The PayPal gateway, driving the real paypalrestsdk over HTTP against the emulator: each call, error and fault."""

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

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


def start_checkout(gateway, *, cents=2500, request_id="checkout:1"):
    return gateway.create_payment(
        amount_cents=cents,
        currency="USD",
        description="Consultation: tax return review",
        invoice_number=request_id,
        return_url="http://127.0.0.1:9/paid",
        cancel_url="http://127.0.0.1:9/cancelled",
        request_id=request_id,
    )


def approve_in_browser(approval_url, *, email="buyer@example.com", action="approve"):
    """What the buyer does on PayPal's page: one form POST; returns where PayPal sends the browser back."""
    page = requests.get(approval_url, timeout=5)
    assert page.status_code == 200 and "Approve" in page.text
    token = parse_qs(urlsplit(approval_url).query)["token"][0]
    answer = requests.post(
        approval_url.split("?")[0], data={"token": token, "email": email, "action": action}, allow_redirects=False
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def paid_sale(gateway, *, cents=2500, key="1"):
    started = start_checkout(gateway, cents=cents, request_id=f"checkout:{key}")
    _, back = approve_in_browser(started.approval_url)
    return gateway.execute_payment(payment_id=back["paymentId"], payer_id=back["PayerID"], request_id=f"execute:{key}")


def post_requests(emulator, path_part):
    return [r for r in emulator.requests_seen() if r["method"] == "POST" and path_part in r["path"]]


# --- Checkout ---


def test_checkout_hands_back_paypals_approval_page_and_completes_after_the_buyer_approves(gateway):
    started = start_checkout(gateway, cents=2500)
    assert started.payment_id.startswith("PAYID-") and "/checkoutnow?token=EC-" in started.approval_url
    location, back = approve_in_browser(started.approval_url)
    assert location.startswith("http://127.0.0.1:9/paid?") and back["paymentId"] == started.payment_id
    done = gateway.execute_payment(payment_id=started.payment_id, payer_id=back["PayerID"], request_id="execute:1")
    assert (done.payment_id, done.amount_cents, done.currency, done.payer_id) == (
        started.payment_id,
        2500,
        "USD",
        back["PayerID"],
    )
    assert done.sale_id.startswith("SALE")


def test_a_buyer_who_cancels_is_sent_to_the_cancel_url(gateway):
    started = start_checkout(gateway)
    location, back = approve_in_browser(started.approval_url, action="cancel")
    assert location.startswith("http://127.0.0.1:9/cancelled?") and back["token"].startswith("EC-")
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.execute_payment(payment_id=started.payment_id, payer_id="ABCDEFGHJKLMN", request_id="execute:c")
    assert error.value.name == "PAYMENT_NOT_APPROVED_FOR_EXECUTION" and error.value.status == 400


def test_a_declined_buyer_is_a_declined_error(gateway):
    started = start_checkout(gateway)
    _, back = approve_in_browser(started.approval_url, email="declined-card@example.com")
    with pytest.raises(PayPalDeclined) as error:
        gateway.execute_payment(payment_id=started.payment_id, payer_id=back["PayerID"], request_id="execute:d")
    assert error.value.name == "INSTRUMENT_DECLINED"


def test_paypal_refusing_a_malformed_payment_is_an_invalid_request(gateway):
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.create_payment(
            amount_cents=100,
            currency="DOLLARS",
            description="x",
            invoice_number="i",
            return_url="http://127.0.0.1:9/r",
            cancel_url="http://127.0.0.1:9/c",
            request_id="bad-currency",
        )
    assert error.value.name == "VALIDATION_ERROR"


def test_a_zero_amount_is_refused_before_anything_is_sent(gateway, paypal_emulator):
    with pytest.raises(PayPalInvalidRequest, match="positive number of cents"):
        start_checkout(gateway, cents=0)
    assert post_requests(paypal_emulator, "/v1/payments/payment") == []


def test_an_unknown_payment_is_an_invalid_request(gateway):
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.execute_payment(payment_id="PAYID-NOSUCH", payer_id="ABCDEFGHJKLMN", request_id="execute:x")
    assert (error.value.status, error.value.name) == (404, "INVALID_RESOURCE_ID")


# --- Refunds ---


def test_a_sale_is_refunded_in_part_then_in_full_and_not_again(gateway):
    sale = paid_sale(gateway, cents=5000)
    part = gateway.refund_sale(sale_id=sale.sale_id, amount_cents=1250, currency="USD", request_id="refund:1")
    assert (part.amount_cents, part.state, part.sale_id) == (1250, "completed", sale.sale_id)
    rest = gateway.refund_sale(sale_id=sale.sale_id, request_id="refund:2")
    assert rest.amount_cents == 3750
    with pytest.raises(PayPalDeclined) as error:
        gateway.refund_sale(sale_id=sale.sale_id, request_id="refund:3")
    assert error.value.name == "TRANSACTION_ALREADY_REFUNDED"


def test_refunding_an_unknown_sale_is_an_invalid_request(gateway):
    with pytest.raises(PayPalInvalidRequest) as error:
        gateway.refund_sale(sale_id="SALENOSUCH", request_id="refund:x")
    assert error.value.status == 404


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


def test_a_5xx_is_retried_with_the_same_request_id(gateway, paypal_emulator):
    paypal_emulator.add_fault("server_error", path="/v1/payments/payment")
    started = start_checkout(gateway, request_id="checkout:5xx")
    sent = post_requests(paypal_emulator, "/v1/payments/payment")
    assert [r["request_id"] for r in sent] == ["checkout:5xx", "checkout:5xx"]
    assert list(paypal_emulator.state.payments) == [started.payment_id]


def test_an_answer_lost_after_paypal_acted_is_recovered_without_acting_twice(gateway, paypal_emulator):
    paypal_emulator.add_fault("accept_then_timeout", path="/v1/payments/payouts")
    created = gateway.create_payout_batch(sender_batch_id="run-lost", items=payout_items("sme@example.com"))
    assert [r["request_id"] for r in post_requests(paypal_emulator, "/v1/payments/payouts")] == ["run-lost"] * 2
    # PayPal acted on the first call; the retry got that first answer, not a second batch or a duplicate error.
    assert list(paypal_emulator.state.batches) == [created.payout_batch_id]


def test_an_execution_whose_answer_was_lost_completes_the_payment_once(gateway, paypal_emulator):
    started = start_checkout(gateway, request_id="checkout:lost")
    _, back = approve_in_browser(started.approval_url)
    paypal_emulator.add_fault("accept_then_timeout", path="/v1/payments/payment/")
    done = gateway.execute_payment(payment_id=started.payment_id, payer_id=back["PayerID"], request_id="execute:lost")
    assert done.sale_id and len(paypal_emulator.state.sales) == 1
    assert [r["request_id"] for r in post_requests(paypal_emulator, "/execute")] == ["execute:lost"] * 2


def test_a_refund_whose_answer_was_lost_refunds_once(gateway, paypal_emulator):
    sale = paid_sale(gateway, cents=3000, key="r")
    paypal_emulator.add_fault("accept_then_timeout", path="/v1/payments/sale/")
    refund = gateway.refund_sale(sale_id=sale.sale_id, amount_cents=1000, currency="USD", request_id="refund:lost")
    assert refund.amount_cents == 1000
    assert paypal_emulator.state.sales[sale.sale_id]["refunded"] == 10  # ten dollars, not twenty


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


def test_wrong_credentials_say_which_settings_to_check(paypal_emulator):
    gateway = PayPalGateway(base_url=paypal_emulator.url, client_id="nobody", client_secret="wrong", backoff=0)
    with pytest.raises(PayPalInvalidRequest, match="PAYPAL_CLIENT_ID"):
        gateway.get_payout_batch(payout_batch_id="ANYBATCH")


def test_no_paypal_answer_with_personal_data_reaches_the_logs(gateway, caplog):
    caplog.set_level(logging.DEBUG)
    started = start_checkout(gateway, request_id="checkout:log")
    _, back = approve_in_browser(started.approval_url, email="private.person@example.com")
    gateway.execute_payment(payment_id=started.payment_id, payer_id=back["PayerID"], request_id="execute:log")
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
