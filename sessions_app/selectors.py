"""Reads about consultations worth a name: who may enter a room, and why not."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from accounts.selectors import sme_hosting_standing

from .models import Consultation

State = Consultation.State


@dataclass(frozen=True)
class RoomAdmission:
    allowed: bool
    role: str | None  # "sme" or "client" when allowed
    code: str  # machine-readable: ok, login, not_found, not_member, not_ready, closed, sme_not_allowed
    reason: str  # for people: what happened and what to do next
    consultation: Consultation | None = None


def consultation_by_token(*, token: str) -> Consultation | None:
    if not token or len(token) > 64:
        return None
    return Consultation.objects.select_related("sme__sme_profile", "client").filter(token=token).first()


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
    if consultation.state in (State.COMPLETED, State.CANCELLED, State.EXPIRED):
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
    return RoomAdmission(True, role, "ok", "", consultation)
