"""Writes the room's socket makes, each as one call (one thread hop, one database connection) from the consumer."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from sessions_app.models import Consultation
from sessions_app.selectors import RoomAdmission, room_admission, room_timer_state
from sessions_app.services import RoomJoin, consultation_go_live, room_member_connect


@dataclass(frozen=True)
class RoomEntry:
    admission: RoomAdmission
    join: RoomJoin | None  # None when refused
    timer: dict | None


def room_enter(*, token: str, user: User, channel_name: str) -> RoomEntry:
    """Admit (the room page's own rule), record this connection as the member's one, and read the timer.

    One call instead of three: each database_sync_to_async call is a hop into Channels' database thread
    and, without a connection pool, a new PostgreSQL session (with its catalog reads) opened and closed.
    """
    admission = room_admission(token=token, user=user)
    if not admission.allowed:
        return RoomEntry(admission=admission, join=None, timer=None)
    join = room_member_connect(consultation=admission.consultation, user=user, channel_name=channel_name)
    return RoomEntry(admission=admission, join=join, timer=room_timer_state(consultation_id=admission.consultation.pk))


def room_go_live(*, consultation: Consultation) -> dict | None:
    """Both members are connected: the consultation goes live (once); the timer both show if it just did."""
    if consultation_go_live(consultation=consultation):
        return room_timer_state(consultation_id=consultation.pk)
    return None
