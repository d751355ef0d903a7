"""Django admin for payments and refunds: read-only, with their ledger entries and audit rows.

The two changes staff make here go through services: retry a refund PayPal refused (a new round at
PayPal), and refund the payment of a completed consultation (which reverses the SME's earning).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import ReadOnlyAdmin
from accounts.models import AuditEvent
from payouts.models import LedgerEntry
from payouts.templatetags.money import money

from . import services as payments
from .models import Payment, Refund


def _audit_rows(payment: Payment) -> str:
    events = AuditEvent.objects.filter(target_type="sessions_app.payment", target_id=str(payment.pk)).order_by(
        "created_at", "id"
    )
    if not events:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>{} · {} · {} · {}</li>",
            (
                (f"{e.created_at:%Y-%m-%d %H:%M:%S}", e.event, e.actor or "system", e.data)
                for e in events.select_related("actor")
            ),
        ),
    )


def _ledger_rows(payment: Payment) -> str:
    entries = LedgerEntry.objects.filter(source_key=f"consultation:{payment.consultation_id}").order_by("created_at")
    if not entries:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}">{}</a> {} · {}</li>',
            (
                (
                    reverse("admin:payouts_ledgerentry_change", args=[e.pk]),
                    e.get_kind_display(),
                    money(e.amount_cents, e.currency),
                    e.reason or e.idempotency_key,
                )
                for e in entries
            ),
        ),
    )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "consultation", "client", "amount", "state", "paypal_fee", "earning", "captured_at"]
    list_filter = ["state", "created_at"]
    list_select_related = ["consultation", "client"]
    search_fields = ["order_id", "capture_id", "client__username", "consultation__title"]
    actions = ["refund_completed"]
    fields = [
        "consultation",
        "client",
        "amount",
        "state",
        "order_id",
        "capture_id",
        "payer_id",
        "paypal_status",
        "paypal_reason",
        "paypal_fee",
        "net",
        "platform_fee",
        "earning",
        "created_at",
        "captured_at",
        "refund_link",
        "ledger_entries",
        "audit_rows",
    ]
    readonly_fields = fields

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj: Payment) -> str:
        return money(obj.amount_cents, obj.currency)

    @admin.display(description="PayPal's fee")
    def paypal_fee(self, obj: Payment) -> str:
        return money(obj.paypal_fee_cents, obj.currency) if obj.paypal_fee_cents is not None else "—"

    @admin.display(description="received from PayPal (net)")
    def net(self, obj: Payment) -> str:
        return money(obj.net_cents, obj.currency) if obj.net_cents is not None else "—"

    @admin.display(description="platform fee")
    def platform_fee(self, obj: Payment) -> str:
        return money(obj.platform_fee_cents, obj.currency) if obj.platform_fee_cents is not None else "—"

    @admin.display(description="SME's earning")
    def earning(self, obj: Payment) -> str:
        return money(obj.earning_cents, obj.currency) if obj.earning_cents is not None else "—"

    @admin.display(description="refund")
    def refund_link(self, obj: Payment) -> str:
        refund = Refund.objects.filter(payment=obj).first()
        if refund is None:
            return "—"
        url = reverse("admin:sessions_app_refund_change", args=[refund.pk])
        return format_html('<a href="{}">{}</a>', url, refund)

    @admin.display(description="ledger entries")
    def ledger_entries(self, obj: Payment) -> str:
        return _ledger_rows(obj)

    @admin.display(description="audit rows")
    def audit_rows(self, obj: Payment) -> str:
        return _audit_rows(obj)

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.has_perm("sessions_app.add_refund")

    @admin.action(
        description="Refund the client of these completed consultations (reverses the expert's earning)",
        permissions=["refund"],
    )
    def refund_completed(self, request: HttpRequest, queryset) -> None:
        done, refused = 0, []
        for payment in queryset.select_related("consultation"):
            try:
                payments.consultation_refund_by_staff(
                    consultation=payment.consultation, actor=request.user, note=f"Refunded by {request.user} in admin."
                )
                done += 1
            except payments.PaymentError as exc:
                refused.append(f"payment {payment.pk}: {exc.message}")
        self.message_user(request, f"Refunds requested: {done}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not refunded: " + " ".join(refused), messages.WARNING)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["id", "payment", "amount", "state", "reason", "paypal_error", "attempts", "round", "created_at"]
    list_filter = ["state", "reason", "created_at"]
    list_select_related = ["payment"]
    search_fields = ["refund_id", "payment__capture_id", "payment__order_id"]
    actions = ["retry_at_paypal"]
    fields = [
        "payment",
        "amount",
        "state",
        "reason",
        "note",
        "requested_by",
        "refund_id",
        "paypal_error",
        "attempts",
        "round",
        "last_attempt_at",
        "created_at",
        "completed_at",
        "ledger_entries",
        "audit_rows",
    ]
    readonly_fields = fields

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj: Refund) -> str:
        return money(obj.amount_cents, obj.currency)

    @admin.display(description="ledger entries")
    def ledger_entries(self, obj: Refund) -> str:
        return _ledger_rows(obj.payment)

    @admin.display(description="audit rows")
    def audit_rows(self, obj: Refund) -> str:
        return _audit_rows(obj.payment)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.has_perm("sessions_app.add_refund")

    @admin.action(description="Ask PayPal again for the selected refunds it refused", permissions=["retry"])
    def retry_at_paypal(self, request: HttpRequest, queryset) -> None:
        retried, refused = 0, []
        for refund in queryset.filter(state=Refund.State.FAILED):
            try:
                payments.refund_retry(refund=refund, actor=request.user)
                retried += 1
            except payments.PaymentError as exc:
                refused.append(exc.message)
        skipped = queryset.exclude(state=Refund.State.FAILED).count()
        self.message_user(
            request,
            f"Sent to PayPal again: {retried}." + (f" Not refused, so not retried: {skipped}." if skipped else ""),
            messages.SUCCESS,
        )
        for message in refused:
            self.message_user(request, message, messages.WARNING)
