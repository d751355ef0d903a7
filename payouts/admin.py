"""Django admin for the ledger: entries are read-only; staff add an adjustment (with a reason) instead."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.models import User

from . import services
from .models import LedgerEntry, PayoutBatch, PayoutHold, PayoutItem, PayoutRun


class AdjustmentForm(forms.ModelForm):
    # Rendered with the form, so submitting the same form twice records one adjustment.
    request_key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)

    class Meta:
        model = LedgerEntry
        fields = ["account", "amount_cents", "currency", "reason"]
        help_texts = {
            "amount_cents": "In cents: 1250 adds 12.50 to the balance, -1250 takes 12.50 off.",
            "reason": "Why: the SME's history keeps it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = User.objects.filter(role=User.Role.SME)
        self.fields["reason"].required = True
        self.fields["currency"].initial = settings.CURRENCY

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if not services.CURRENCY_CODE.fullmatch(currency):
            raise ValidationError("Enter a three-letter currency code, such as USD.")
        return currency

    def clean_amount_cents(self) -> int:
        amount = self.cleaned_data["amount_cents"]
        if amount == 0:
            raise ValidationError("Enter an amount other than 0 (negative to take money off the balance).")
        return amount

    def clean(self):
        data = super().clean()
        # The same form sent again (back button, double click) is a repeat, answered by the entry it
        # recorded; sent again with other figures it would be silently ignored, so it is refused.
        done = LedgerEntry.objects.filter(idempotency_key=services.adjustment_key(data.get("request_key", ""))).first()
        account = data.get("account")
        if done and (done.account_id, done.amount_cents, done.currency) != (
            account and account.pk,
            data.get("amount_cents"),
            data.get("currency"),
        ):
            raise ValidationError(
                "This form already recorded an adjustment of %(amount)s %(currency)s. To record another one, "
                "open a new “Add ledger entry” form.",
                params={"amount": done.amount_cents, "currency": done.currency},
            )
        return data

    def _post_clean(self):
        # The service validates and writes; the model's own validation would demand fields an
        # adjustment does not have (the idempotency key is the service's).
        pass


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "amount_cents", "currency", "idempotency_key"]
    list_filter = ["kind", "currency"]
    search_fields = ["account__username", "idempotency_key", "payout_item_ref"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AdjustmentForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "amount_cents", "currency", "reason", "request_key"]
        return [f.name for f in LedgerEntry._meta.fields]

    def has_change_permission(self, request, obj=None):
        return False  # the change page becomes a read-only view

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        entry = services.ledger_adjust(
            account=form.cleaned_data["account"],
            amount_cents=form.cleaned_data["amount_cents"],
            currency=form.cleaned_data["currency"],
            reason=form.cleaned_data["reason"],
            admin=request.user,
            request_key=form.cleaned_data["request_key"],
        )
        # The admin logs and redirects to the object it believes it saved.
        obj.pk = entry.pk
        obj._state.adding = False


# --- Payouts: runs, batches and items are read-only (they change only through payouts.runs); holds ---


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _ledger_entries_html(refs_filter: dict) -> str:
    from django.urls import reverse
    from django.utils.html import format_html_join

    entries = LedgerEntry.objects.filter(**refs_filter).order_by("created_at", "id")[:50]
    return (
        format_html_join(
            "",
            '<div><a href="{}">{}</a> {} {} · {}</div>',
            (
                (
                    reverse("admin:payouts_ledgerentry_change", args=[e.pk]),
                    e.get_kind_display(),
                    e.amount_cents,
                    e.currency,
                    e.reason,
                )
                for e in entries
            ),
        )
        or "—"
    )


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdmin):
    list_display = ["payout_date", "status", "created_at", "sent_at", "batch_count", "item_count"]
    list_filter = ["status"]
    date_hierarchy = "payout_date"

    @admin.display(description="batches")
    def batch_count(self, obj):
        return obj.batches.count()

    @admin.display(description="items")
    def item_count(self, obj):
        return obj.items.count()


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ["sender_batch_id", "run", "currency", "status", "batch_status", "payout_batch_id", "sent_at"]
    list_filter = ["status", "currency"]
    search_fields = ["sender_batch_id", "payout_batch_id"]
    list_select_related = ["run"]
    readonly_fields = ["items_link"]

    @admin.display(description="items")
    def items_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:payouts_payoutitem_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{} items</a>', url, obj.items.count())


@admin.register(PayoutItem)
class PayoutItemAdmin(ReadOnlyAdmin):
    list_display = [
        "sender_item_id",
        "account",
        "amount_cents",
        "currency",
        "transaction_status",
        "error_name",
        "batch",
    ]
    list_filter = ["transaction_status", "currency", "batch__run"]
    search_fields = ["sender_item_id", "payout_item_id", "account__username", "receiver"]
    list_select_related = ["account", "batch"]
    readonly_fields = ["ledger_entries"]

    @admin.display(description="ledger entries")
    def ledger_entries(self, obj):
        return _ledger_entries_html({"payout_item_ref": obj.sender_item_id})


class PayoutHoldForm(forms.ModelForm):
    class Meta:
        model = PayoutHold
        fields = ["account", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = User.objects.filter(role=User.Role.SME)

    def clean(self):
        data = super().clean()
        account = data.get("account")
        if account and PayoutHold.objects.filter(account=account, lifted_at__isnull=True).exists():
            raise ValidationError("This SME's payouts are on hold already.")
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the payouts are held; staff who lift it read it.")
        return data

    def _post_clean(self):
        pass  # the service validates and writes (placed_by is the admin)


@admin.register(PayoutHold)
class PayoutHoldAdmin(admin.ModelAdmin):
    """The hold switch: "Add" holds an SME's payouts; the "Lift" action lifts holds. Both audited."""

    list_display = ["account", "reason", "placed_by", "placed_at", "lifted_by", "lifted_at"]
    list_filter = [("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["account__username", "reason"]
    list_select_related = ["account", "placed_by", "lifted_by"]
    actions = ["lift"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PayoutHoldForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "reason"]
        return ["account", "reason", "placed_by", "placed_at", "lifted_by", "lifted_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a hold is lifted (kept, audited), never deleted

    def save_model(self, request, obj, form, change):
        hold = services.payout_hold_place(
            account=form.cleaned_data["account"], reason=form.cleaned_data["reason"], actor=request.user
        )
        obj.pk, obj.account, obj.reason = hold.pk, hold.account, hold.reason  # what the admin logs and links
        obj._state.adding = False

    @admin.action(description="Lift the selected holds (the SMEs are paid from the next payout day)")
    def lift(self, request, queryset):
        lifted = 0
        for hold in queryset.filter(lifted_at__isnull=True):
            services.payout_hold_lift(hold=hold, actor=request.user)
            lifted += 1
        self.message_user(request, f"Lifted {lifted} hold(s).")
