"""The .ics (RFC 5545) file of a scheduled consultation, for the download and the e-mail attachments."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from .models import Consultation

# Every line break a reader might honour (CRLF, LF, a bare CR, and Unicode's NEL/LS/PS) becomes
# the escaped \n of RFC 5545 §3.3.11; any other control character is not allowed in TEXT and is
# dropped. A raw CR would otherwise end the property, so a display name such as
# "Eve\rATTENDEE:mailto:..." could add properties of its own to the entry.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _escape(text: str) -> str:
    """TEXT value per RFC 5545 §3.3.11: backslash, semicolon, comma and line breaks escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = _LINE_BREAKS.sub(r"\\n", text)
    return _OTHER_CONTROLS.sub("", text)


def _fold(line: str) -> str:
    # RFC 5545 §3.1: lines longer than 75 octets continue on the next line after a space.
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, start = [], 0
    while start < len(raw):
        end = min(start + (75 if start == 0 else 74), len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # never split inside a UTF-8 character
            end -= 1
        parts.append(raw[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def consultation_ics(consultation: Consultation, *, cancelled: bool = False) -> str:
    """One VEVENT at the scheduled start for the agreed minutes; a cancelled one tells calendars to drop it."""
    if consultation.scheduled_start is None:
        raise ValueError("Only a consultation with a scheduled start has a calendar entry.")
    join_url = settings.SITE_URL + consultation.get_absolute_url()
    sme_name = consultation.sme.sme_profile.display_name if hasattr(consultation.sme, "sme_profile") else ""
    description = f"InterKanect video consultation with {sme_name or consultation.sme.username}.\nJoin: {join_url}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//InterKanect//Consultations//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        # Stable across downloads and e-mails, so a calendar updates (or drops) the same entry.
        f"UID:consultation-{consultation.pk}@interkanect",
        f"SEQUENCE:{1 if cancelled else 0}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(consultation.scheduled_start)}",
        f"DTEND:{_utc(consultation.scheduled_end)}",
        f"SUMMARY:{_escape(consultation.title)}",
        f"DESCRIPTION:{_escape(description)}",
        f"URL:{join_url}",
        # Confirmed only once a client claimed it; before that the SME holds the time, nobody agreed to it yet.
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED' if consultation.client_id else 'TENTATIVE'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def consultation_ics_filename(consultation: Consultation) -> str:
    """What the downloaded or attached file is called: what it is, when (the SME's day) and its title, in plain
    ASCII so it is safe in every header: "interkanect-consultation-2026-12-03-tax-return-review.ics"."""
    title = slugify(consultation.title)[:40].strip("-") or "consultation"
    day = timezone.localdate(consultation.scheduled_start, ZoneInfo(consultation.scheduled_tz or "UTC"))
    return f"interkanect-consultation-{day:%Y-%m-%d}-{title}.ics"
