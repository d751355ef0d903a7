"""Reads the room needs: who may enter it (and why not), and the timer's state as both browsers show it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from accounts.models import User
from accounts.selectors import sme_hosting_standing

from ..models import Consultation, ConsultationExtension
from .consultations import consultation_by_token
from .payments import consultation_is_paid

State = Consultation.State


@dataclass(frozen=True)
class RoomAdmission:
    allowed: bool
    role: str | None  # "sme" or "client" when allowed
    code: str  # machine-readable: ok, login, not_found, not_member, not_ready, closed, sme_not_allowed
    reason: str  # for people: what happened and what to do next
    consultation: Consultation | None = None


def room_admission(*, token: str, user: User) -> RoomAdmission:
    """The one rule for the room page and its WebSocket: only the SME and the client, once it is ready."""
    consultation = consultation_by_token(token=token)
    if consultation is None:
        return RoomAdmission(
            False, None, "not_found", "This link is not valid. Check that you copied the whole link from the e-mail."
        )
    if not user.is_authenticated:
        return RoomAdmission(False, None, "login", "Log in to join this consultation.", consultation)
    role = consultation.member_role(user)
    if role is None:
        return RoomAdmission(False, None, "not_member", "This consultation belongs to someone else.", consultation)
    if consultation.state in Consultation.CLOSED_STATES:
        return RoomAdmission(
            False,
            role,
            "closed",
            f"This consultation is {consultation.get_state_display().lower()}; its room is closed.",
            consultation,
        )
    standing = sme_hosting_standing(user=consultation.sme)
    if not standing.allowed:
        reason = standing.reason if role == "sme" else "The expert can no longer host this consultation."
        return RoomAdmission(False, role, "sme_not_allowed", reason, consultation)
    if consultation.state not in Consultation.ROOM_STATES:
        reason = (
            "The room opens once your client has claimed the link (and paid, if it is priced)."
            if role == "sme"
            else "The room opens once the consultation is paid."
        )
        return RoomAdmission(False, role, "not_ready", reason, consultation)
    if not consultation_is_paid(consultation=consultation):
        # Ready without a captured payment (data from before checkout, or an admin's mistake): still closed.
        reason = (
            "The room opens once your client's payment is captured."
            if role == "sme"
            else "The room opens once the consultation is paid."
        )
        return RoomAdmission(False, role, "not_ready", reason, consultation)
    return RoomAdmission(True, role, "ok", "", consultation)


def room_timer_state(*, consultation_id: int) -> dict:
    """Agreed and extra minutes, when the timer started (None before both were first connected), the server's clock."""
    return consultation_timer_state(consultation=Consultation.objects.get(pk=consultation_id))


def consultation_timer_state(*, consultation: Consultation) -> dict:
    """room_timer_state of a consultation just read (the row a join has locked and updated)."""
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
