"""E-mails to the SME and the client when a consultation is claimed, ready (with the client's receipt),
cancelled or about to start, and to the client when their payment is refunded."""

from __future__ import annotations

import logging
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from .ics import consultation_ics, consultation_ics_filename
from .models import Consultation
from .selectors.payments import consultation_payment

logger = logging.getLogger(__name__)

SUBJECTS = {
    "claimed": "{title}: claimed, waiting for payment",
    "ready": "{title}: the room is open",
    "cancelled": "{title}: cancelled",
    "starting": "{title}: starts in {minutes} minutes",
    "refunded": "{title}: refunded",
}
CLIENT_ONLY = {"refunded"}
WITH_CALENDAR = {"claimed", "ready", "cancelled"}


def consultation_notify_on_commit(*, consultation: Consultation, kind: str, minutes_left: int | None = None) -> None:
    """Send the e-mails once the transaction that changed the consultation has committed (never for a rollback).

    minutes_left: for "starting", how soon it starts (the reminder may go out later than the lead time).
    """
    if kind not in SUBJECTS:
        raise ValueError(f"Unknown consultation e-mail: {kind}")
    transaction.on_commit(partial(_send, consultation.pk, kind, minutes_left))


def _when(consultation: Consultation, *, person, role: str) -> dict[str, str]:
    """The start in the recipient's own time zone first (their browser's, at sign-up or claim; the SME's is
    the one they scheduled in), then in UTC; the expert's too when the recipient's is unknown."""
    start = consultation.scheduled_start
    if start is None:
        return {}
    fmt = "%A %d %B %Y, %H:%M"
    when = {"utc": start.astimezone(ZoneInfo("UTC")).strftime(fmt) + " UTC"}
    sme_zone = consultation.scheduled_tz if consultation.scheduled_tz != "UTC" else ""
    own = (consultation.scheduled_tz or person.time_zone) if role == "sme" else person.time_zone
    if own and own != "UTC":
        when["yours"] = f"{start.astimezone(ZoneInfo(own)).strftime(fmt)} ({own}, your time zone)"
    elif sme_zone and role == "client":
        when["other"] = f"{start.astimezone(ZoneInfo(sme_zone)).strftime(fmt)} ({sme_zone}, the expert's time zone)"
    return when


def _send(consultation_id: int, kind: str, minutes_left: int | None = None) -> None:
    consultation = Consultation.objects.select_related("sme__sme_profile", "client").get(pk=consultation_id)
    profile = getattr(consultation.sme, "sme_profile", None)
    sme_name = profile.display_name if profile else consultation.sme.username
    client_name = consultation.client.username if consultation.client else ""
    context = {
        "consultation": consultation,
        "sme_name": sme_name,
        "client_name": client_name,
        "join_url": settings.SITE_URL + consultation.get_absolute_url(),
        "room_url": settings.SITE_URL + reverse("room", args=[consultation.token]),
        "dashboard_url": settings.SITE_URL + reverse("dashboard"),
        "reminder_minutes": minutes_left or settings.CONSULTATION_REMINDER_MINUTES,
        # The receipt and the refund, so every sentence about money says what really happened.
        "payment": consultation_payment(consultation=consultation),
    }
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + SUBJECTS[kind].format(
        title=consultation.title, minutes=context["reminder_minutes"]
    )
    attachment = None
    if kind in WITH_CALENDAR and consultation.scheduled_start is not None:
        attachment = consultation_ics(consultation, cancelled=kind == "cancelled")
    messages = []
    for role, person in (("sme", consultation.sme), ("client", consultation.client)):
        if person is None or not person.email:  # no client yet, or a closed account (its address is freed)
            continue
        if kind in CLIENT_ONLY and role != "client":
            continue
        when = _when(consultation, person=person, role=role)
        body = render_to_string(
            f"sessions_app/email/{kind}.txt", {**context, "role": role, "person": person, "when": when}
        )
        message = EmailMessage(subject=subject, body=body, to=[person.email])
        if attachment:
            message.attach(consultation_ics_filename(consultation), attachment, "text/calendar")
        messages.append(message)
    try:
        get_connection().send_messages(messages)
    except Exception:
        # The change itself is committed; a mail server fault must not turn it into an error page.
        logger.exception("Could not send the %r e-mails of consultation %s", kind, consultation_id)
