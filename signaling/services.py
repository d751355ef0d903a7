"""Writes the room's socket makes, each as one call (one thread hop, one database connection) from the consumer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.selectors import session_user
from sessions_app.models import Consultation
from sessions_app.selectors import RoomAdmission, room_admission, room_timer_state
from sessions_app.services import ConsultationError, RoomJoin, consultation_go_live, room_member_connect

from .limits import join_refusal

T = TypeVar("T")


@dataclass(frozen=True)
class RoomEntry:
    user: User | AnonymousUser
    refusal: str  # too many joins: the reason shown; "" otherwise
    admission: RoomAdmission | None  # None when refused for too many joins
    join: RoomJoin | None  # None when refused
    timer: dict | None


def room_enter(*, token: str, session_key: str | None, address: str, channel_name: str) -> RoomEntry:
    """Who is joining (their session), the join limits, admission (the room page's own rule), this
    connection recorded as the member's one, and the timer.

    One call instead of four: each database_sync_to_async call is a hop into Channels' one database
    thread, which every connection of the process queues for.
    """
    user = session_user(session_key=session_key)
    refusal = join_refusal(user_id=user.pk if user.is_authenticated else None, address=address)
    if refusal:
        return RoomEntry(user=user, refusal=refusal, admission=None, join=None, timer=None)
    admission = room_admission(token=token, user=user)
    if not admission.allowed:
        return RoomEntry(user=user, refusal="", admission=admission, join=None, timer=None)
    join = room_member_connect(consultation=admission.consultation, user=user, channel_name=channel_name)
    return RoomEntry(user=user, refusal="", admission=admission, join=join, timer=join.timer)


# A room connection keeps the ids of its consultation and member, not model instances (the consultation
# with its two users and the SME's profile cost each connection about 4 KB); the calls below load them.


def room_go_live(*, consultation_id: int) -> dict | None:
    """Both members are connected: the consultation goes live (once); the timer both show if it just did."""
    if consultation_go_live(consultation=Consultation.objects.get(pk=consultation_id)):
        return room_timer_state(consultation_id=consultation_id)
    return None


def room_member_act(service: Callable[..., T], *, consultation_id: int, member_id: int, member_as: str, **fields) -> T:
    """A lifecycle service (extension, end) for the room's consultation, acted by one of its members:
    `member_as` is the service's name for that member (sme, client or actor)."""
    consultation = Consultation.objects.select_related("sme", "client").get(pk=consultation_id)
    if member_id not in (consultation.sme_id, consultation.client_id):
        raise ConsultationError("You are no longer a member of this consultation.", code="not_member")
    member = consultation.sme if member_id == consultation.sme_id else consultation.client
    return service(consultation=consultation, **{member_as: member}, **fields)
