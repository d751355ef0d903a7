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

from accounts.models import User

from . import services
from .models import LedgerEntry


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
