"""Periodic housekeeping (the `consultations_housekeeping` command): expiry, auto-completion, reminders."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Consultation
from ..notifications import consultation_notify_on_commit
from .lifecycle import consultation_complete, consultation_expire

State = Consultation.State


def consultations_expire_due(*, now: datetime | None = None) -> int:
    """Expire what was never live within the allowed days after its creation or its scheduled start, if later."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CONSULTATION_EXPIRE_DAYS)
    count = 0
    for consultation in Consultation.objects.filter(
        Q(scheduled_start__isnull=True) | Q(scheduled_start__lt=cutoff),
        state__in=Consultation.NOT_YET_LIVE_STATES,
        created_at__lt=cutoff,
    ):
        count += consultation_expire(consultation=consultation)
    return count


def consultations_complete_due(*, now: datetime | None = None) -> int:
    """Complete live consultations whose agreed end (plus the grace time) has passed and whose room is empty."""
    now = now or timezone.now()
    grace = timedelta(minutes=settings.CONSULTATION_AUTOCOMPLETE_GRACE_MINUTES)
    count = 0
    for consultation in Consultation.objects.filter(state=State.LIVE, sme_channel="", client_channel=""):
        agreed_end = consultation.live_at + timedelta(minutes=consultation.total_minutes)
        left_at = consultation.last_left_at or agreed_end
        if now >= max(agreed_end, left_at) + grace:
            count += consultation_complete(consultation=consultation, actor=None, only_if_room_empty=True)
    return count


def consultations_remind_due(*, now: datetime | None = None) -> int:
    """Send the "about to start" e-mails, once each, for booked consultations starting within the lead time."""
    now = now or timezone.now()
    lead = timedelta(minutes=settings.CONSULTATION_REMINDER_MINUTES)
    count = 0
    due = Consultation.objects.filter(
        state__in=Consultation.BOOKED_STATES,
        reminder_sent_at__isnull=True,
        scheduled_start__gt=now,
        scheduled_start__lte=now + lead,
    )
    for consultation in due:
        with transaction.atomic():
            # The conditional UPDATE is the record: two runs at once still send one reminder.
            if Consultation.objects.filter(pk=consultation.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            ):
                # Claimed a few minutes before its start, or a late run: say how soon it really starts.
                minutes_left = math.ceil((consultation.scheduled_start - now).total_seconds() / 60)
                consultation_notify_on_commit(consultation=consultation, kind="starting", minutes_left=minutes_left)
                count += 1
    return count
