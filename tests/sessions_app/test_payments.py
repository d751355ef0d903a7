"""Paying a consultation through PayPal (Orders v2), its refund, and the SME's earning: the real SDK over HTTP
against the emulator, the real database, the pages a client uses."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from interkanect.services import account_close
from payouts.models import LedgerEntry
from payouts.selectors import ledger_balance
from sessions_app import services as payments
from sessions_app.models import Consultation, Payment, Refund
from sessions_app.selectors import room_admission
from sessions_app.services import (
    consultation_cancel,
    consultation_claim,
    consultation_complete,
    consultation_go_live,
    consultation_mark_ready,
    consultations_expire_due,
    review_disqualify,
)
from sessions_app.services.refunds import CLAIM_STALE_AFTER
from tests.factories import PASSWORD, make_client, make_consultation, make_sme, make_user
from tests.payouts.test_checkout_gateway import approve_in_browser
from tests.sessions_app.policy_helpers import make_flagged_sme, make_reviewer

pytestmark = pytest.mark.django_db

State = Consultation.State
PState = Payment.State
BASE = "http://testserver/"


@pytest.fixture(autouse=True)
def _no_platform_fee(settings):
    settings.PLATFORM_FEE_PERCENT = 0


def claimed(*, price_cents=4550, sme=None, client=None):
    consultation = make_consultation(sme=sme or make_sme(), price_cents=price_cents, title="Tax return review")
    return consultation_claim(consultation=consultation, client=client or make_client())


def start(consultation):
    return payments.payment_start(consultation=consultation, client=consultation.client, base_url=BASE)


def approve(payment, *, email="buyer@example.com", action="approve"):
    location, back = approve_in_browser(payment.approve_url, email=email, action=action)
    return location, back


def paid(*, email="buyer@example.com", **kwargs):
    """A claimed consultation its client paid: started, approved at PayPal, captured on return."""
    consultation = claimed(**kwargs)
    payment = start(consultation)
    approve(payment, email=email)
    outcome = payments.payment_capture(consultation=consultation, order_id=payment.order_id, client=consultation.client)
    consultation.refresh_from_db()
    payment.refresh_from_db()
    return consultation, payment, outcome


def captures(emulator):
    return [r for r in emulator.requests_seen() if r["method"] == "POST" and r["path"].endswith("/capture")]


def refund_posts(emulator):
    return [r for r in emulator.requests_seen() if r["method"] == "POST" and r["path"].endswith("/refund")]


def logged_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


# --- Paying ---


def test_a_client_pays_through_paypal_and_the_room_opens_for_both_with_a_receipt(
    client, paypal_emulator, django_capture_on_commit_callbacks
):
    consultation = claimed()
    logged_in(client, consultation.client)
    page = client.get(consultation.get_absolute_url())
    assert "Pay $45.50 with PayPal" in page.content.decode()
    assert paypal_emulator.url in page["Content-Security-Policy"]  # the form may lead to PayPal
    answer = client.post(reverse("payment_start", args=[consultation.token]))
    payment = Payment.objects.get(consultation=consultation)
    assert answer.status_code == 302 and answer["Location"] == payment.approve_url
    assert (payment.state, payment.amount_cents, payment.currency) == (PState.APPROVAL, 4550, "USD")
    mail.outbox.clear()
    location, back = approve(payment)
    assert location.startswith(f"http://testserver/c/{consultation.token}/pay/return/?")
    with django_capture_on_commit_callbacks(execute=True):
        returned = client.get(urlsplit(location).path, back)
    assert returned.status_code == 302 and returned["Location"] == consultation.get_absolute_url()
    consultation.refresh_from_db()
    payment.refresh_from_db()
    assert consultation.state == State.READY and payment.state == PState.CAPTURED
    assert (payment.paypal_fee_cents, payment.net_cents) == (208, 4342)  # PayPal's fee, from its breakdown
    for user in (consultation.sme, consultation.client):
        assert room_admission(token=consultation.token, user=user).allowed
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert "Paid: $45.50. The room is open." in page and f"PayPal transaction {payment.capture_id}" in page
    receipt = next(m for m in mail.outbox if m.to == [consultation.client.email])
    assert "Receipt" in receipt.body and "You paid $45.50 through PayPal" in receipt.body
    assert payment.capture_id in receipt.body
    assert "paid $45.50" in next(m for m in mail.outbox if m.to == [consultation.sme.email]).body
    assert len(captures(paypal_emulator)) == 1
    assert AuditEvent.objects.filter(event="payment.captured", target_id=str(payment.pk)).exists()


def test_the_payment_row_is_written_before_paypal_is_called_and_its_id_makes_the_request_id(paypal_emulator, settings):
    consultation = claimed()
    paypal_emulator.add_fault("server_error", path="/v2/checkout/orders", times=settings.PAYPAL_RETRIES + 1)
    with pytest.raises(payments.PaymentError, match="PayPal is not answering just now") as error:
        start(consultation)
    assert "Nothing was charged" in error.value.message
    payment = Payment.objects.get(consultation=consultation)
    assert payment.state == PState.CREATED
    again = start(consultation)  # the client clicks again: the same row, the same request id
    assert again.pk == payment.pk and again.state == PState.APPROVAL
    sent = {r["request_id"] for r in paypal_emulator.requests_seen() if r["path"] == "/v2/checkout/orders"}
    assert sent == {f"interkanect-payment-{payment.pk}-create"}
    assert list(paypal_emulator.state.orders) == [again.order_id]


def test_a_second_click_or_tab_gets_the_same_payment_and_order(paypal_emulator):
    consultation = claimed()
    first, second = start(consultation), start(consultation)
    assert first.pk == second.pk and first.order_id == second.order_id
    assert Payment.objects.count() == 1 and len(paypal_emulator.state.orders) == 1


def test_only_its_client_pays_a_claimed_priced_consultation(paypal_emulator):
    consultation = claimed()
    with pytest.raises(payments.PaymentError, match="Only the client"):
        payments.payment_start(consultation=consultation, client=make_client(), base_url=BASE)
    free = make_consultation(price_cents=0)
    consultation_claim(consultation=free, client=make_client())
    with pytest.raises(payments.PaymentError, match="free"):
        payments.payment_start(consultation=free, client=free.client, base_url=BASE)
    assert Payment.objects.count() == 0 and paypal_emulator.requests_seen() == []


def test_a_client_who_cancels_at_paypal_stays_claimed_and_unpaid_and_may_pay_again(client, paypal_emulator):
    consultation = claimed()
    logged_in(client, consultation.client)
    client.post(reverse("payment_start", args=[consultation.token]))
    payment = Payment.objects.get()
    location, back = approve(payment, action="cancel")
    assert location.startswith(f"http://testserver/c/{consultation.token}/pay/cancelled/?")
    page = client.get(urlsplit(location).path, back, follow=True).content.decode()
    assert "You cancelled at PayPal. Nothing was charged." in page and "Pay $45.50 with PayPal" in page
    payment.refresh_from_db()
    consultation.refresh_from_db()
    assert payment.state == PState.ABANDONED and consultation.state == State.CLAIMED
    retry = start(consultation)
    assert retry.pk != payment.pk and retry.order_id != payment.order_id and retry.state == PState.APPROVAL


def test_a_declined_payment_method_says_so_and_a_retry_with_another_pays(client, paypal_emulator):
    consultation = claimed()
    logged_in(client, consultation.client)
    client.post(reverse("payment_start", args=[consultation.token]))
    location, back = approve(Payment.objects.get(), email="declined-card@example.com")
    page = client.get(urlsplit(location).path, back, follow=True).content.decode()
    assert "PayPal declined that payment method; try again." in page and "Pay $45.50 with PayPal" in page
    consultation.refresh_from_db()
    assert consultation.state == State.CLAIMED and Payment.objects.get().state == PState.DECLINED
    assert not room_admission(token=consultation.token, user=consultation.client).allowed
    retry = start(consultation)
    approve(retry, email="buyer@example.com")
    outcome = payments.payment_capture(consultation=consultation, order_id=retry.order_id, client=consultation.client)
    assert outcome.code == "paid"
    consultation.refresh_from_db()
    assert consultation.state == State.READY


def test_a_capture_paypal_holds_for_review_keeps_the_room_closed_until_housekeeping_reads_it_completed(
    paypal_emulator,
):
    consultation, payment, outcome = paid(email="pending.buyer@example.com")
    assert outcome.code == "pending" and "PayPal is reviewing your payment" in outcome.message
    assert (payment.state, payment.paypal_reason, consultation.state) == (
        PState.PENDING,
        "PENDING_REVIEW",
        State.CLAIMED,
    )
    assert not room_admission(token=consultation.token, user=consultation.client).allowed
    call_command("consultations_housekeeping", stdout=open("/dev/null", "w"))
    consultation.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.state, consultation.state, payment.paypal_fee_cents) == (PState.CAPTURED, State.READY, 208)
    assert room_admission(token=consultation.token, user=consultation.client).allowed


def test_a_held_capture_paypal_then_declines_leaves_it_unpaid(paypal_emulator):
    consultation, payment, _ = paid(email="pending-denied@example.com")
    assert payments.payments_resolve_due() == 1
    consultation.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.state, consultation.state) == (PState.DECLINED, State.CLAIMED)


def test_a_capture_that_timed_out_is_recovered_later_and_paypal_saw_one_capture(paypal_emulator, settings):
    consultation = claimed()
    payment = start(consultation)
    approve(payment)
    # PayPal captures, the answer is lost, the retries meet 503s: we cannot know what happened.
    paypal_emulator.add_fault("accept_then_timeout", path="/v2/checkout/orders/", times=1)
    paypal_emulator.add_fault("server_error", path="/v2/checkout/orders/", times=settings.PAYPAL_RETRIES)
    outcome = payments.payment_capture(consultation=consultation, order_id=payment.order_id, client=consultation.client)
    assert outcome.code == "unavailable" and "not be charged twice" in outcome.message
    payment.refresh_from_db()
    assert payment.state == PState.CAPTURING
    # The client reloads at once: another sender holds the claim, nothing is sent.
    again = payments.payment_capture(consultation=consultation, order_id=payment.order_id, client=consultation.client)
    assert again.code == "confirming"
    assert payments.payments_resolve_due() == 0  # not stale yet
    later = timezone.now() + CLAIM_STALE_AFTER + timedelta(seconds=1)
    assert payments.payments_resolve_due(now=later) == 1
    payment.refresh_from_db()
    consultation.refresh_from_db()
    assert payment.state == PState.CAPTURED and consultation.state == State.READY
    assert len(paypal_emulator.state.captures) == 1
    assert {r["request_id"] for r in captures(paypal_emulator)} == {f"interkanect-payment-{payment.pk}-capture"}


def test_a_replayed_return_does_not_capture_again(client, paypal_emulator):
    consultation = claimed()
    logged_in(client, consultation.client)
    client.post(reverse("payment_start", args=[consultation.token]))
    location, back = approve(Payment.objects.get())
    client.get(urlsplit(location).path, back)
    page = client.get(urlsplit(location).path, back, follow=True).content.decode()
    assert "Paid: $45.50. The room is open." in page
    assert len(captures(paypal_emulator)) == 1


def test_a_return_carrying_another_consultations_order_is_refused_without_a_capture(client, paypal_emulator):
    mine = claimed()
    other = claimed()
    others_payment = start(other)
    approve(others_payment)
    logged_in(client, mine.client)
    path = reverse("payment_return", args=[mine.token])
    page = client.get(path, {"token": others_payment.order_id}, follow=True).content.decode()
    assert "That PayPal payment is not the one for this consultation, so it was not taken." in page
    assert captures(paypal_emulator) == [] and paypal_emulator.state.captures == {}
    others_payment.refresh_from_db()
    mine.refresh_from_db()
    assert others_payment.state == PState.APPROVAL and mine.state == State.CLAIMED
    # A mangled return is the same plain refusal (a NUL byte would be a server error on PostgreSQL).
    for junk in ("\x00", "A" * 65, "../capture"):
        page = client.get(path, {"token": junk}, follow=True)
        assert page.status_code == 200 and "it was not taken" in page.content.decode()
        cancelled = client.get(reverse("payment_cancelled", args=[mine.token]), {"token": junk}, follow=True)
        assert cancelled.status_code == 200
    # Nor by someone who is not the client, on the right consultation.
    stranger = payments.payment_capture(consultation=other, order_id=others_payment.order_id, client=make_client())
    assert stranger.code == "wrong_order" and captures(paypal_emulator) == []


def test_a_consultation_cancelled_while_its_client_was_at_paypal_is_not_charged(paypal_emulator):
    consultation = claimed()
    payment = start(consultation)
    approve(payment)
    consultation_cancel(consultation=consultation, actor=consultation.sme)
    outcome = payments.payment_capture(consultation=consultation, order_id=payment.order_id, client=consultation.client)
    assert outcome.code == "closed" and "Nothing was charged." in outcome.message
    payment.refresh_from_db()
    assert payment.state == PState.ABANDONED and captures(paypal_emulator) == []


def test_a_priced_consultation_made_ready_without_a_captured_payment_keeps_its_room_closed(paypal_emulator):
    consultation = claimed()
    consultation_mark_ready(consultation=consultation)  # as an admin's mistake or old data might
    for user in (consultation.sme, consultation.client):
        admission = room_admission(token=consultation.token, user=user)
        assert not admission.allowed and admission.code == "not_ready"


@pytest.mark.django_db(transaction=True)
def test_two_tabs_returning_at_once_capture_once(paypal_emulator):
    if connection.vendor != "postgresql":
        pytest.skip("two connections racing for one row need PostgreSQL (SQLite serialises the whole file)")
    consultation = claimed()
    payment = start(consultation)
    approve(payment)
    outcomes, barrier = [], threading.Barrier(2)

    def tab():
        from django.db import connection as own

        try:
            barrier.wait()
            outcomes.append(
                payments.payment_capture(
                    consultation=consultation, order_id=payment.order_id, client=consultation.client
                ).code
            )
        finally:
            own.close()

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["confirming", "paid"], ["paid", "paid"])
    assert len(captures(paypal_emulator)) == 1 and len(paypal_emulator.state.captures) == 1
    consultation.refresh_from_db()
    assert consultation.state == State.READY
    assert (
        payments.payment_capture(consultation=consultation, order_id=payment.order_id, client=consultation.client).code
        == "paid"
    )


# --- Refunds ---


def test_the_expert_cancelling_a_paid_consultation_refunds_the_client_in_full(
    paypal_emulator, django_capture_on_commit_callbacks, client
):
    consultation, payment, _ = paid()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert consultation_cancel(consultation=consultation, actor=consultation.sme, reason="Ill")
    refund = Refund.objects.get(payment=payment)
    assert (refund.state, refund.reason, refund.amount_cents) == (Refund.State.COMPLETED, "cancelled", 4550)
    assert refund.refund_id and paypal_emulator.state.captures[payment.capture_id]["status"] == "REFUNDED"
    assert [r["request_id"] for r in refund_posts(paypal_emulator)] == [f"interkanect-refund-{refund.pk}-1"]
    to_client = [m for m in mail.outbox if m.to == [consultation.client.email]]
    assert "is refunded in full to your PayPal account" in next(m for m in to_client if "cancelled" in m.subject).body
    refunded = next(m for m in to_client if "refunded" in m.subject)
    assert "PayPal has returned it to your PayPal account" in refunded.body and refund.refund_id in refunded.body
    logged_in(client, consultation.client)
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert "Refunded:" in page and "$45.50 went back to your PayPal account" in page


def test_a_refund_paypal_does_not_answer_is_sent_again_by_housekeeping_with_the_same_request_id(
    paypal_emulator, django_capture_on_commit_callbacks, settings
):
    consultation, payment, _ = paid()
    paypal_emulator.add_fault("server_error", path="/v2/payments/captures/", times=settings.PAYPAL_RETRIES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    refund = Refund.objects.get()
    assert refund.state == Refund.State.REQUESTED and refund.attempts == 1
    call_command("consultations_housekeeping", stdout=open("/dev/null", "w"))
    refund.refresh_from_db()
    assert refund.state == Refund.State.COMPLETED and refund.attempts == 2
    assert {r["request_id"] for r in refund_posts(paypal_emulator)} == {f"interkanect-refund-{refund.pk}-1"}
    assert len(paypal_emulator.state.refunds) == 1


def test_a_refund_paypal_refuses_waits_for_staff_with_paypals_reason_then_a_retry_refunds_it(
    paypal_emulator, django_capture_on_commit_callbacks
):
    consultation, payment, _ = paid()
    paypal_emulator.add_fault("refuse", path="/v2/payments/captures/", issue="REFUND_FAILED_INSUFFICIENT_FUNDS")
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    refund = Refund.objects.get()
    assert (refund.state, refund.paypal_error) == (Refund.State.FAILED, "REFUND_FAILED_INSUFFICIENT_FUNDS")
    assert payments.refunds_send_due() == 0  # housekeeping does not hammer a refusal
    staff = make_user(username="staff")
    staff.is_staff = True
    with django_capture_on_commit_callbacks(execute=True):
        payments.refund_retry(refund=refund, actor=staff)
    refund.refresh_from_db()
    assert (refund.state, refund.round) == (Refund.State.COMPLETED, 2)
    assert [r["request_id"] for r in refund_posts(paypal_emulator)] == [
        f"interkanect-refund-{refund.pk}-1",
        f"interkanect-refund-{refund.pk}-2",
    ]
    with pytest.raises(payments.PaymentError):
        payments.refund_retry(refund=refund, actor=staff)  # refunded: nothing to retry


def test_a_paid_consultation_that_expires_is_refunded(paypal_emulator, django_capture_on_commit_callbacks, settings):
    consultation, payment, _ = paid()
    later = timezone.now() + timedelta(days=settings.CONSULTATION_EXPIRE_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert consultations_expire_due(now=later) == 1
    refund = Refund.objects.get(payment=payment)
    assert (refund.reason, refund.state) == ("expired", Refund.State.COMPLETED)


def test_closing_the_experts_account_refunds_its_paid_consultations(
    paypal_emulator, django_capture_on_commit_callbacks
):
    consultation, payment, _ = paid()
    with django_capture_on_commit_callbacks(execute=True):
        account_close(user=consultation.sme, actor=consultation.sme)
    refund = Refund.objects.get(payment=payment)
    assert (refund.reason, refund.state) == ("sme_closed", Refund.State.COMPLETED)


def test_disqualifying_the_expert_refunds_its_paid_consultations(paypal_emulator, django_capture_on_commit_callbacks):
    sme, case = make_flagged_sme()
    consultation, payment, _ = paid(sme=sme)
    with django_capture_on_commit_callbacks(execute=True):
        review_disqualify(
            case=case, actor=make_reviewer(), reason="Too many free sessions", cancel_open_consultations=True
        )
    refund = Refund.objects.get(payment=payment)
    assert (refund.reason, refund.state) == ("sme_disqualified", Refund.State.COMPLETED)


def test_a_consultation_cancelled_before_payment_has_nothing_to_refund_and_says_not_charged(
    paypal_emulator, django_capture_on_commit_callbacks
):
    consultation = claimed()
    payment = start(consultation)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.client)
    payment.refresh_from_db()
    assert payment.state == PState.ABANDONED and Refund.objects.count() == 0
    assert "You were not charged." in next(m for m in mail.outbox if m.to == [consultation.client.email]).body


# --- The SME's earning ---


def live(consultation):
    assert consultation_go_live(consultation=consultation)
    return consultation


def test_completion_credits_the_expert_once_with_the_platform_fee_rounded_down(client, paypal_emulator, settings):
    settings.PLATFORM_FEE_PERCENT = 12.5
    consultation, payment, _ = paid(price_cents=4550)
    live(consultation)
    assert consultation_complete(consultation=consultation, actor=consultation.sme)
    assert not consultation_complete(consultation=consultation, actor=consultation.sme)  # a second click
    entry = LedgerEntry.objects.get(account=consultation.sme)
    # 12.5% of $45.50 is $5.6875: the platform takes $5.68, the fraction of a cent stays with the expert.
    assert (entry.kind, entry.amount_cents, entry.source_key) == ("earning", 3982, f"consultation:{consultation.pk}")
    payment.refresh_from_db()
    assert (payment.platform_fee_cents, payment.earning_cents, payment.paypal_fee_cents) == (568, 3982, 208)
    assert ledger_balance(account=consultation.sme).amount_cents == 3982
    client.force_login(consultation.sme)
    earnings = client.get("/dashboard/").content.decode()
    assert "Earnings per consultation" in earnings
    assert all(figure in earnings for figure in ("$45.50", "$5.68", "$39.82"))


def test_with_no_platform_fee_the_expert_earns_the_whole_price_and_a_free_session_earns_nothing(paypal_emulator):
    consultation, _, _ = paid(price_cents=4550)
    consultation_complete(consultation=live(consultation), actor=consultation.sme)
    free = make_consultation(sme=consultation.sme, price_cents=0)
    consultation_claim(consultation=free, client=make_client())
    consultation_complete(consultation=live(free), actor=consultation.sme)
    assert list(LedgerEntry.objects.values_list("amount_cents", flat=True)) == [4550]


def test_staff_refunding_a_completed_consultation_reverses_the_experts_earning(
    paypal_emulator, django_capture_on_commit_callbacks
):
    consultation, payment, _ = paid(price_cents=4550)
    consultation_complete(consultation=live(consultation), actor=consultation.sme)
    staff = make_user(username="staff")
    staff.is_staff = True
    with django_capture_on_commit_callbacks(execute=True):
        refund = payments.consultation_refund_by_staff(consultation=consultation, actor=staff, note="Complaint upheld")
    refund.refresh_from_db()
    assert (refund.reason, refund.state) == ("staff", Refund.State.COMPLETED)
    reversal = LedgerEntry.objects.get(kind="earning_reversal")
    assert (reversal.amount_cents, reversal.source_key) == (-4550, f"consultation:{consultation.pk}")
    assert "Complaint upheld" in reversal.reason
    assert ledger_balance(account=consultation.sme).amount_cents == 0
    with pytest.raises(payments.PaymentError, match="refunded already"):
        payments.consultation_refund_by_staff(consultation=consultation, actor=staff, note="again")


def test_the_pay_button_is_on_the_clients_dashboard_and_the_rooms_waiting_page(client, paypal_emulator):
    consultation = claimed()
    logged_in(client, consultation.client)
    for url, status in (("/dashboard/", 200), (reverse("room", args=[consultation.token]), 409)):
        response = client.get(url)
        assert response.status_code == status
        assert "Pay $45.50 with PayPal" in response.content.decode()
        assert paypal_emulator.url in response["Content-Security-Policy"]
    # Its expert sees no pay button, and no page of theirs may send a form to PayPal.
    client.force_login(consultation.sme)
    for url in ("/dashboard/", consultation.get_absolute_url(), reverse("room", args=[consultation.token])):
        response = client.get(url)
        assert "with PayPal" not in response.content.decode() and "http" not in response["Content-Security-Policy"]


def test_the_client_dashboard_shows_the_receipt_and_the_refund(
    client, paypal_emulator, django_capture_on_commit_callbacks
):
    consultation, payment, _ = paid()
    logged_in(client, consultation.client)
    assert "Paid $45.50 through PayPal." in client.get("/dashboard/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    page = client.get("/dashboard/").content.decode()
    assert "Paid $45.50, refunded in full." in page
    assert "Payments, receipts and refunds" in page and payment.capture_id in page and "Refunded $45.50" in page


def test_a_refund_paypal_holds_is_read_by_housekeeping_until_it_completes(
    client, paypal_emulator, django_capture_on_commit_callbacks
):
    consultation, payment, _ = paid(email="echeck.buyer@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    refund = Refund.objects.get()
    assert (refund.state, refund.paypal_error) == (Refund.State.PENDING, "ECHECK")
    logged_in(client, consultation.client)
    assert "Refund on its way:" in client.get(consultation.get_absolute_url()).content.decode()
    assert payments.refunds_send_due() == 0  # PayPal still says PENDING on this read
    assert payments.refunds_send_due() == 1
    refund.refresh_from_db()
    assert refund.state == Refund.State.COMPLETED and len(refund_posts(paypal_emulator)) == 1


def test_a_capture_that_lands_after_its_consultation_was_cancelled_is_refunded(
    paypal_emulator, django_capture_on_commit_callbacks, settings
):
    consultation = claimed()
    payment = start(consultation)
    approve(payment)
    paypal_emulator.add_fault("accept_then_timeout", path="/v2/checkout/orders/", times=1)
    paypal_emulator.add_fault("server_error", path="/v2/checkout/orders/", times=settings.PAYPAL_RETRIES)
    assert (
        payments.payment_capture(consultation=consultation, order_id=payment.order_id, client=consultation.client).code
        == "unavailable"
    )
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.sme)  # the capture's fate is unknown
    assert Refund.objects.count() == 0
    later = timezone.now() + CLAIM_STALE_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        payments.payments_resolve_due(now=later)  # PayPal did capture: the money goes back
    payment.refresh_from_db()
    refund = Refund.objects.get(payment=payment)
    assert payment.state == PState.CAPTURED and (refund.reason, refund.state) == ("cancelled", Refund.State.COMPLETED)
    assert len(paypal_emulator.state.captures) == 1
