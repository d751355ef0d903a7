"""Forms for creating and cancelling a consultation: they parse what people type, the services decide."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms

from .services import MAX_MINUTES

PRICE_PLAIN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
PRICE_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$")
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


def dollars_to_cents(text: str) -> int:
    """'45', '45.5', '$1,045.50' → integer cents, exactly (Decimal, never float)."""
    raw = text.strip().removeprefix("$").strip()
    if "," in raw:
        if not PRICE_THOUSANDS.match(raw):
            raise forms.ValidationError("Use a dot for cents, for example 45.50.")
        raw = raw.replace(",", "")
    if not PRICE_PLAIN.match(raw):
        raise forms.ValidationError("Enter the price in dollars, for example 45 or 45.50 (at most two decimals).")
    return int(Decimal(raw) * 100)


class ConsultationCreateForm(forms.Form):
    title = forms.CharField(
        max_length=120,
        help_text="Your client sees it on the link's page, for example: Tax return review.",
        error_messages={"required": "Give the consultation a title, for example: Tax return review."},
    )
    agreed_minutes = forms.IntegerField(
        label="Duration (minutes)",
        min_value=1,
        max_value=MAX_MINUTES,
        initial=30,
        help_text="The time you agree on. You can propose more during the call.",
        error_messages={
            "required": "Enter the agreed duration in minutes, for example 30.",
            "invalid": "Enter the duration as a whole number of minutes, for example 30.",
        },
    )
    price = forms.CharField(
        label="Price in US dollars",
        max_length=20,
        help_text="For example 45 or 45.50. Enter 0 for a free session. You are not required to charge, but you "
        "are encouraged to: your knowledge is worth paying for, and SMEs who give away too many sessions for "
        "free can be disqualified.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": "Enter a price in dollars, or 0 for a free session."},
    )
    scheduled_start = forms.CharField(
        label="Start (optional)",
        required=False,
        help_text="In your own time zone. Your client sees it in theirs. Leave it empty to agree on a time later.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    # Filled by static/js/timezone-field.js from the browser (Intl); UTC without JavaScript.
    tz = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-timezone-field": ""}))
    # One per rendered form: submitting the same form twice creates one consultation.
    creation_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("creation_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)

    def clean_price(self) -> int:
        return dollars_to_cents(self.cleaned_data["price"])

    def clean_tz(self) -> str:
        name = self.cleaned_data.get("tz", "").strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return "UTC"  # no JavaScript, or a browser reporting a zone we do not know
        return name or "UTC"

    def clean(self):
        cleaned = super().clean()
        raw = (cleaned.get("scheduled_start") or "").strip()
        cleaned["scheduled_start"] = None
        if raw:
            zone_name = cleaned.get("tz") or "UTC"
            cleaned["scheduled_start"] = self._local_to_aware(raw, zone_name)
        return cleaned

    def _local_to_aware(self, raw: str, zone_name: str) -> datetime | None:
        for fmt in DATETIME_FORMATS:
            try:
                naive = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        else:
            self.add_error("scheduled_start", "Enter a date and time, for example 2026-12-01 14:30.")
            return None
        zone = ZoneInfo(zone_name)
        aware = naive.replace(tzinfo=zone)
        # A wall-clock time skipped when the clocks go forward does not survive the round trip.
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            self.add_error(
                "scheduled_start",
                f"{naive:%H:%M} does not exist on {naive:%d %B %Y} in {zone_name} (the clocks change). "
                "Choose another time.",
            )
            return None
        return aware


class ConsultationCancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional, sent to the other person)",
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
