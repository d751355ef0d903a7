"""Room presence (used by the signaling consumer): who is connected where, and going live.

Going live is a room event (both people connected for the first time), and the moment a free session
starts to count for the free-session policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from ..models import Consultation
from ..selectors.room import consultation_timer_state
from .common import ConsultationError, channel_field, presence_stale_before, seen_field, transition
from .free_sessions import policy_evaluate_after_live

State = Consultation.State


@transaction.atomic
def consultation_go_live(*, consultation: Consultation) -> bool:
    """Ready → live, the first time both people are connected at once. The timer starts here."""
    went_live = transition(
        consultation,
        from_states=(State.READY,),
        to_state=State.LIVE,
        event="consultation.live",
        actor=None,
        extra={"live_at": timezone.now()},
    )
    if went_live and consultation.is_free:
        # A free session counts from now: the free-session policy looks at the SME once this commits
        # (robust: a failure there is logged and never disturbs the room).
        sme_id = consultation.sme_id
        transaction.on_commit(lambda: policy_evaluate_after_live(sme_id=sme_id), robust=True)
    return went_live


@dataclass(frozen=True)
class RoomJoin:
    role: str  # "sme" or "client"
    replaced_channel: str  # this member's previous channel (another tab), "" if none
    peer_channel: str  # the other member's channel, "" if they are not connected
    timer: dict  # the room's timer as the join found it, read under its lock (see room_timer_state)


@transaction.atomic
def room_member_connect(*, consultation: Consultation, user: User, channel_name: str) -> RoomJoin:
    """Record this connection as the member's one connection; the previous one (another tab) is replaced.

    A peer channel that was not refreshed lately belongs to a dead server process: it is forgotten here.
    """
    locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
    role = locked.member_role(user)
    if role is None:
        raise ConsultationError("You are not a member of this consultation.", code="not_member")
    peer_role = "client" if role == "sme" else "sme"
    field, peer_field = channel_field(role), channel_field(peer_role)
    now = timezone.now()
    replaced = getattr(locked, field)
    setattr(locked, field, channel_name)
    setattr(locked, seen_field(role), now)
    update_fields = [field, seen_field(role)]
    peer_seen = getattr(locked, seen_field(peer_role))
    if getattr(locked, peer_field) and (peer_seen is None or peer_seen < presence_stale_before(now)):
        setattr(locked, peer_field, "")
        update_fields.append(peer_field)
    locked.save(update_fields=update_fields)
    timer = consultation_timer_state(consultation=locked)  # under the lock: no extension accepted meanwhile
    return RoomJoin(role=role, replaced_channel=replaced, peer_channel=getattr(locked, peer_field), timer=timer)


def room_members_seen(*, channel_names: list[str]) -> set[str]:
    """These connections (one server process's) are alive: refresh their presence, in one statement per
    role and per 500 connections. Returns those still recorded as a member's connection; the others were
    replaced by another tab or reported gone by the other member's server."""
    now = timezone.now()
    recorded: set[str] = set()
    for start in range(0, len(channel_names), 500):
        chunk = channel_names[start : start + 500]
        for role in ("sme", "client"):
            field = channel_field(role)
            rows = Consultation.objects.filter(**{f"{field}__in": chunk})
            found = list(rows.values_list(field, flat=True))
            if found:
                rows.update(**{seen_field(role): now})
                recorded.update(found)
    return recorded


@transaction.atomic
def room_member_left(*, consultation_id: int, role: str, channel_name: str) -> bool:
    """Forget this connection of the member in `role`, unless another tab has taken over since. True if the
    room is now empty. By ids: a room connection keeps no model instances."""
    field = channel_field(role)
    Consultation.objects.filter(pk=consultation_id, **{field: channel_name}).update(**{field: ""})
    emptied = Consultation.objects.filter(pk=consultation_id, sme_channel="", client_channel="").update(
        last_left_at=timezone.now()
    )
    return bool(emptied)
