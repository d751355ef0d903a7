"""Every write to consultations: creation, the lifecycle transitions, extensions and room presence.

Each transition is one function, guarded by a conditional UPDATE (… WHERE state IN …) or a row lock,
so a double click or a second tab cannot apply it twice; each writes an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from accounts.selectors import sme_hosting_standing
from accounts.services import audit_record

from .models import Consultation, ConsultationExtension

State = Consultation.State

MAX_MINUTES = 8 * 60
MAX_PRICE_CENTS = 100_000_00  # 100,000.00: a typo guard, not a business rule
MAX_EXTENSION_MINUTES = 240


class ConsultationError(Exception):
    """A transition that cannot happen now; the message says why and what to do next."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _transition(
    consultation: Consultation,
    *,
    from_states: tuple[str, ...],
    to_state: str,
    event: str,
    actor: User | None,
    extra: dict | None = None,
    also: Q | None = None,
) -> bool:
    """Move the consultation if (and only if) it is still in one of from_states. True if this call did it."""
    updates = {"state": to_state, **(extra or {})}
    query = Consultation.objects.filter(pk=consultation.pk, state__in=from_states)
    if also is not None:
        query = query.filter(also)
    if not query.update(**updates):
        consultation.refresh_from_db()
        return False
    for field, value in updates.items():
        setattr(consultation, field, value)
    audit_record(event=event, actor=actor, subject=consultation.sme, target=consultation, data={"to": to_state})
    return True


@transaction.atomic
def consultation_create(
    *,
    sme: User,
    title: str,
    agreed_minutes: int,
    price_cents: int,
    scheduled_start: datetime | None = None,
) -> Consultation:
    standing = sme_hosting_standing(user=sme)
    if not standing.allowed:
        raise ConsultationError(standing.reason, code="not_allowed")
    errors = {}
    if not title.strip():
        errors["title"] = "Give the consultation a title, for example: Tax return review."
    if not 1 <= agreed_minutes <= MAX_MINUTES:
        errors["agreed_minutes"] = f"The duration is between 1 and {MAX_MINUTES} minutes."
    if not 0 <= price_cents <= MAX_PRICE_CENTS:
        errors["price_cents"] = f"The price is between 0 and {MAX_PRICE_CENTS // 100:,}."
    if errors:
        raise ValidationError(errors)
    consultation = Consultation.objects.create(
        sme=sme,
        title=title.strip(),
        agreed_minutes=agreed_minutes,
        price_cents=price_cents,
        currency=settings.CURRENCY,
        scheduled_start=scheduled_start,
    )
    audit_record(
        event="consultation.created",
        actor=sme,
        subject=sme,
        target=consultation,
        data={"price_cents": price_cents, "minutes": agreed_minutes},
    )
    return consultation


@transaction.atomic
def consultation_claim(*, consultation: Consultation, client: User) -> Consultation:
    """The first client to open the link owns it. A free consultation is ready at once."""
    if client.pk == consultation.sme_id:
        raise ConsultationError("This is your own consultation: send the link to your client.", code="own")
    if consultation.client_id == client.pk:
        return consultation  # a second click, or the same person in another tab
    if not client.is_client:
        raise ConsultationError(
            "Consultations are booked with a client account. Log out and log in (or sign up) as a client.",
            code="not_client",
        )
    now = timezone.now()
    claimed = _transition(
        consultation,
        from_states=(State.CREATED,),
        to_state=State.CLAIMED,
        event="consultation.claimed",
        actor=client,
        extra={"client": client, "claimed_at": now},
        also=Q(client__isnull=True),
    )
    if not claimed:
        if consultation.client_id == client.pk:
            return consultation
        if consultation.state in (State.CANCELLED, State.EXPIRED, State.COMPLETED):
            raise ConsultationError("This consultation is no longer open.", code="closed")
        raise ConsultationError("This consultation belongs to someone else.", code="taken")
    if consultation.is_free:
        consultation_mark_ready(consultation=consultation)
    return consultation


@transaction.atomic
def consultation_mark_ready(*, consultation: Consultation, actor: User | None = None) -> bool:
    """Claimed → ready: free, or paid (checkout calls this once the payment is captured)."""
    return _transition(
        consultation,
        from_states=(State.CLAIMED,),
        to_state=State.READY,
        event="consultation.ready",
        actor=actor,
        extra={"ready_at": timezone.now()},
    )


@transaction.atomic
def consultation_go_live(*, consultation: Consultation) -> bool:
    """Ready → live, the first time both people are connected at once. The timer starts here."""
    went_live = _transition(
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
        from .policy_services import policy_evaluate_after_live

        sme_id = consultation.sme_id
        transaction.on_commit(lambda: policy_evaluate_after_live(sme_id=sme_id), robust=True)
    return went_live


@transaction.atomic
def consultation_complete(*, consultation: Consultation, actor: User | None) -> bool:
    """Live → completed: the SME ends it in the room (actor), or it completes by itself (actor None)."""
    if actor is not None and actor.pk != consultation.sme_id:
        raise ConsultationError("Only the expert can end the consultation.", code="not_sme")
    return _transition(
        consultation,
        from_states=(State.LIVE,),
        to_state=State.COMPLETED,
        event="consultation.completed",
        actor=actor,
        extra={"ended_at": timezone.now(), "ended_by": actor},
    )


@transaction.atomic
def consultation_cancel(*, consultation: Consultation, actor: User, reason: str = "") -> bool:
    """The SME may cancel before it was live; the client before it is ready (paid)."""
    if actor.pk == consultation.sme_id:
        allowed = (State.CREATED, State.CLAIMED, State.READY)
        too_late = "It was already live, so it can no longer be cancelled; end it instead."
    elif actor.pk == consultation.client_id:
        allowed = (State.CLAIMED,)
        too_late = "It is already paid or ready; ask the expert to cancel it."
    elif actor.is_staff:
        allowed = (State.CREATED, State.CLAIMED, State.READY)
        too_late = "It was already live, so it can no longer be cancelled."
    else:
        raise ConsultationError("Only its expert or its client can cancel a consultation.", code="not_member")
    done = _transition(
        consultation,
        from_states=allowed,
        to_state=State.CANCELLED,
        event="consultation.cancelled",
        actor=actor,
        extra={"ended_at": timezone.now(), "ended_by": actor, "end_reason": reason[:200]},
    )
    if not done and consultation.state != State.CANCELLED:
        raise ConsultationError(too_late, code="too_late")
    return done


@transaction.atomic
def consultation_expire(*, consultation: Consultation) -> bool:
    """Never live within the configured number of days after creation."""
    return _transition(
        consultation,
        from_states=(State.CREATED, State.CLAIMED, State.READY),
        to_state=State.EXPIRED,
        event="consultation.expired",
        actor=None,
        extra={"ended_at": timezone.now(), "end_reason": "Never held within the time allowed."},
    )


# --- Extensions: the SME proposes, the client accepts or declines. ---


@transaction.atomic
def consultation_extension_propose(*, consultation: Consultation, sme: User, minutes: int) -> ConsultationExtension:
    if sme.pk != consultation.sme_id:
        raise ConsultationError("Only the expert can propose more time.", code="not_sme")
    if not 1 <= minutes <= MAX_EXTENSION_MINUTES:
        raise ConsultationError(f"Propose between 1 and {MAX_EXTENSION_MINUTES} extra minutes.", code="bad_minutes")
    locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if locked.state not in Consultation.ROOM_STATES:
        raise ConsultationError("Time can only be extended while the consultation is open.", code="closed")
    if locked.extensions.filter(state=ConsultationExtension.State.PROPOSED).exists():
        raise ConsultationError("Wait for your client to answer the previous proposal.", code="pending")
    extension = ConsultationExtension.objects.create(consultation=locked, minutes=minutes)
    audit_record(
        event="consultation.extension_proposed", actor=sme, subject=locked.sme, target=locked, data={"minutes": minutes}
    )
    return extension


@transaction.atomic
def consultation_extension_answer(*, consultation: Consultation, client: User, accept: bool) -> ConsultationExtension:
    if client.pk != consultation.client_id:
        raise ConsultationError("Only the client can answer a proposal for more time.", code="not_client")
    locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
    extension = locked.extensions.filter(state=ConsultationExtension.State.PROPOSED).first()
    if extension is None:
        raise ConsultationError("There is no proposal to answer.", code="no_proposal")
    extension.state = ConsultationExtension.State.ACCEPTED if accept else ConsultationExtension.State.DECLINED
    extension.answered_at = timezone.now()
    extension.save(update_fields=["state", "answered_at"])
    if accept:
        Consultation.objects.filter(pk=locked.pk).update(extension_minutes=F("extension_minutes") + extension.minutes)
    consultation.refresh_from_db()
    audit_record(
        event="consultation.extension_accepted" if accept else "consultation.extension_declined",
        actor=client,
        subject=locked.sme,
        target=locked,
        data={"minutes": extension.minutes},
    )
    return extension


# --- Room presence (used by the signaling consumer). ---


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


# --- Periodic housekeeping (management command `consultations_housekeeping`). ---


def consultations_expire_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CONSULTATION_EXPIRE_DAYS)
    count = 0
    for consultation in Consultation.objects.filter(
        state__in=(State.CREATED, State.CLAIMED, State.READY), created_at__lt=cutoff
    ):
        count += consultation_expire(consultation=consultation)
    return count


def consultations_complete_due(*, now: datetime | None = None) -> int:
    """Complete live consultations whose agreed end (plus the grace time) has passed and whose room is empty."""
    now = now or timezone.now()
    grace = timedelta(minutes=settings.CONSULTATION_AUTOCOMPLETE_GRACE_MINUTES)
    count = 0
    for consultation in Consultation.objects.filter(state=State.LIVE, sme_channel="", client_channel=""):
        agreed_end = consultation.live_at + timedelta(minutes=consultation.total_minutes)
        left_at = consultation.last_left_at or agreed_end
        if now >= max(agreed_end, left_at) + grace:
            count += consultation_complete(consultation=consultation, actor=None)
    return count
