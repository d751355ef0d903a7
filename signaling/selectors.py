"""Reads the room needs: the timer's state as both browsers show it."""

from __future__ import annotations

from django.utils import timezone

from sessions_app.models import Consultation, ConsultationExtension


def room_timer_state(*, consultation_id: int) -> dict:
    """Agreed and extra minutes, when the timer started (None before both were first connected), the server's clock."""
    consultation = Consultation.objects.get(pk=consultation_id)
    pending = (
        consultation.extensions.filter(state=ConsultationExtension.State.PROPOSED)
        .values_list("minutes", flat=True)
        .first()
    )
    return {
        "agreed_minutes": consultation.agreed_minutes,
        "extension_minutes": consultation.extension_minutes,
        "total_minutes": consultation.total_minutes,
        "started_at": consultation.live_at.isoformat() if consultation.live_at else None,
        # The browser's clock may be off; it measures elapsed time against this.
        "server_time": timezone.now().isoformat(),
        "pending_extension_minutes": pending,
        "state": consultation.state,
    }
