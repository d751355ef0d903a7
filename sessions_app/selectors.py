"""Reads about consultations worth a name: who may enter a room, and why not."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import F, Prefetch

from accounts.models import User
from accounts.selectors import sme_hosting_standing

from .models import Consultation, ConsultationExtension
from .payment_selectors import consultation_is_paid

State = Consultation.State


@dataclass(frozen=True)
class RoomAdmission:
    allowed: bool
    role: str | None  # "sme" or "client" when allowed
    code: str  # machine-readable: ok, login, not_found, not_member, not_ready, closed, sme_not_allowed
    reason: str  # for people: what happened and what to do next
    consultation: Consultation | None = None


# Join tokens are URL-safe base64 (models.new_join_token). Anything else is a forged or mangled link: it
# matches nothing, and never reaches the database (PostgreSQL refuses a NUL byte with an error, not a miss).
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def consultation_by_token(*, token: str) -> Consultation | None:
    if not token or not TOKEN_SHAPE.fullmatch(token):
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
    if not consultation_is_paid(consultation=consultation):
        # Ready without a captured payment (data from before checkout, or an admin's mistake): still closed.
        reason = (
            "The room opens once your client's payment is captured."
            if role == "sme"
            else "The room opens once the consultation is paid."
        )
        return RoomAdmission(False, role, "not_ready", reason, consultation)
    return RoomAdmission(True, role, "ok", "", consultation)


def consultation_can_cancel(*, consultation: Consultation, user: User) -> bool:
    """Whether this user may cancel it now (the same rule consultation_cancel applies)."""
    role = consultation.member_role(user)
    return role is not None and consultation.state in Consultation.CANCEL_STATES[role]


@dataclass(frozen=True)
class ConsultationLists:
    open: list[Consultation]
    past: list[Consultation]


PAST_SHOWN = 20


def _lists(queryset) -> ConsultationLists:
    queryset = queryset.select_related("sme__sme_profile", "client").prefetch_related(
        Prefetch("extensions", queryset=ConsultationExtension.objects.order_by("proposed_at"))
    )
    open_ = list(
        queryset.filter(state__in=Consultation.OPEN_STATES).order_by(
            F("scheduled_start").asc(nulls_last=True), "-created_at"
        )
    )
    past = list(queryset.filter(state__in=Consultation.CLOSED_STATES).order_by("-ended_at", "-created_at")[:PAST_SHOWN])
    return ConsultationLists(open=open_, past=past)


def consultations_for_sme(*, sme: User) -> ConsultationLists:
    """The SME's open consultations (soonest first), then the most recent past ones."""
    return _lists(Consultation.objects.filter(sme=sme))


def consultations_for_client(*, client: User) -> ConsultationLists:
    return _lists(Consultation.objects.filter(client=client))
