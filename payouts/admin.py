"""Django admin for the ledger: entries are read-only; staff add an adjustment (with a reason) instead.

The "Add ledger entry" page is a custom admin view with a small form that calls ledger_adjust, like the
review-case decision views: the service alone decides what an adjustment may be.
"""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import ReadOnlyAdmin
from accounts.models import User

from . import services
from .models import LedgerEntry, PayoutBatch, PayoutHold, PayoutItem, PayoutRun


class AdjustmentForm(forms.Form):
    account = forms.ModelChoiceField(queryset=User.objects.none(), label="SME")
    amount_cents = forms.IntegerField(
        label="Amount (cents)", help_text="In cents: 1250 adds 12.50 to the balance, -1250 takes 12.50 off."
    )
    currency = forms.CharField(max_length=3, initial=settings.CURRENCY)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why: the SME's history keeps it.")
    # Rendered with the form, so submitting the same form twice records one adjustment.
    request_key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = User.objects.filter(role=User.Role.SME).order_by("username")

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()  # "usd" typed is USD, not a second balance


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "amount_cents", "currency", "source_key", "idempotency_key"]
    list_filter = ["kind", "currency"]
    search_fields = ["account__username", "idempotency_key", "source_key", "payout_item_ref"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in LedgerEntry._meta.fields]

    def has_change_permission(self, request, obj=None):
        return False  # the change page becomes a read-only view

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """An adjustment: the form parses, ledger_adjust validates and records it (once per form shown)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.ledger_adjust(
                    account=data["account"],
                    amount_cents=data["amount_cents"],
                    currency=data["currency"],
                    reason=data["reason"],
                    admin=request.user,
                    request_key=data["request_key"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except services.LedgerError as exc:
                # The same form sent again (back button) with other figures: refused, not silently ignored.
                form.add_error(
                    None,
                    f"This form already recorded an adjustment ({exc}) To record another one, open a new "
                    "“Add ledger entry” form.",
                )
            else:
                self.message_user(request, f"Recorded: {entry}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:payouts_ledgerentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            **(extra_context or {}),
            "opts": self.opts,
            "title": "Adjust an SME's balance",
            "form": form,
        }
        return TemplateResponse(request, "admin/payouts/ledgerentry/adjust.html", context)


# --- Payouts: runs, batches and items are read-only (they change only through payouts.runs); holds ---


def _ledger_entries_html(refs_filter: dict) -> str:
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
