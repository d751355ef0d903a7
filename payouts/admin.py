"""Django admin for the ledger: entries are read-only; staff add an adjustment (with a reason) instead."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.models import User

from . import services
from .models import LedgerEntry


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

    def clean_amount_cents(self) -> int:
        amount = self.cleaned_data["amount_cents"]
        if amount == 0:
            raise ValidationError("Enter an amount other than 0 (negative to take money off the balance).")
        return amount

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
