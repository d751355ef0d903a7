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
from .common import ConsultationError, transition
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


def _channel_field(role: str) -> str:
    return "sme_channel" if role == "sme" else "client_channel"


@transaction.atomic
def room_member_connect(*, consultation: Consultation, user: User, channel_name: str) -> RoomJoin:
    """Record this connection as the member's one connection; the previous one (another tab) is replaced."""
    locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
    role = locked.member_role(user)
    if role is None:
        raise ConsultationError("You are not a member of this consultation.", code="not_member")
    field, peer_field = _channel_field(role), _channel_field("client" if role == "sme" else "sme")
    replaced = getattr(locked, field)
    setattr(locked, field, channel_name)
    locked.save(update_fields=[field])
    return RoomJoin(role=role, replaced_channel=replaced, peer_channel=getattr(locked, peer_field))


@transaction.atomic
def room_member_disconnect(*, consultation: Consultation, user: User, channel_name: str) -> bool:
    """Forget this connection, unless another tab has taken over since. True if the room is now empty."""
    role = consultation.member_role(user)
    if role is None:
        return False
    field = _channel_field(role)
    Consultation.objects.filter(pk=consultation.pk, **{field: channel_name}).update(**{field: ""})
    emptied = Consultation.objects.filter(pk=consultation.pk, sme_channel="", client_channel="").update(
        last_left_at=timezone.now()
    )
    return bool(emptied)
