"""Django admin for payments and refunds: read-only, PayPal's reason for a refused refund, and a retry action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sessions_app.models import Payment, Refund
from sessions_app.services import consultation_cancel
from tests.factories import PASSWORD, make_user
from tests.sessions_app.test_payments import paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    staff = make_user(username="boss")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    assert client.login(username="boss", password=PASSWORD)
    return client


def test_a_refund_paypal_refused_shows_paypals_reason_and_staff_retry_it_from_admin(
    admin_client, paypal_emulator, django_capture_on_commit_callbacks
):
    consultation, payment, _ = paid()
    paypal_emulator.add_fault("refuse", path="/v2/payments/captures/", issue="REFUND_FAILED_INSUFFICIENT_FUNDS")
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    refund = Refund.objects.get()
    listing = admin_client.get(reverse("admin:sessions_app_refund_changelist")).content.decode()
    assert "REFUND_FAILED_INSUFFICIENT_FUNDS" in listing and "Refused by PayPal: waiting for staff" in listing
    detail = admin_client.get(reverse("admin:sessions_app_refund_change", args=[refund.pk])).content.decode()
    assert "refund.failed" in detail and "refund.requested" in detail  # the audit rows
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            reverse("admin:sessions_app_refund_changelist"),
            {"action": "retry_at_paypal", "_selected_action": [refund.pk]},
            follow=True,
        )
    assert "Sent to PayPal again: 1." in answer.content.decode()
    refund.refresh_from_db()
    assert refund.state == Refund.State.COMPLETED and refund.round == 2


def test_payments_are_read_only_in_admin_with_paypals_fee_and_the_ledger_entries(admin_client, paypal_emulator):
    from sessions_app.services import consultation_complete, consultation_go_live

    consultation, payment, _ = paid()
    consultation_go_live(consultation=consultation)
    consultation_complete(consultation=consultation, actor=consultation.sme)
    page = admin_client.get(reverse("admin:sessions_app_payment_change", args=[payment.pk])).content.decode()
    assert "$2.08" in page and "$43.42" in page  # PayPal's fee and what PayPal passed on
    assert "Earning" in page and "$45.50" in page and "payment.captured" in page
    assert admin_client.get(reverse("admin:sessions_app_payment_add")).status_code == 403
    assert admin_client.post(reverse("admin:sessions_app_payment_delete", args=[payment.pk])).status_code == 403
    assert Payment.objects.filter(pk=payment.pk).exists()
