"""Every write to consultations: creation, the lifecycle transitions, extensions and room presence.

Each transition is one function, guarded by a conditional UPDATE (… WHERE state IN …) or a row lock,
so a double click or a second tab cannot apply it twice; each writes an audit row.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from accounts.selectors import sme_hosting_standing
from accounts.services import audit_record
from payouts.models import LedgerEntry
from payouts.services import LedgerError, ledger_credit_earning

from .models import Consultation, ConsultationExtension
from .notifications import consultation_notify_on_commit

State = Consultation.State

MAX_MINUTES = 8 * 60
MAX_PRICE_CENTS = 100_000_00  # 100,000.00: a typo guard, not a business rule
MAX_EXTENSION_MINUTES = 240
MAX_SCHEDULE_DAYS = 2 * 366  # a typo guard (a year typed as 2062), and it keeps every derived time in range


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


def _is_int(value) -> bool:
    # Money and minutes are whole numbers: a float or a Decimal here is a bug upstream, not something to round.
    return isinstance(value, int) and not isinstance(value, bool)


START_PASSED = "That time has passed. Choose a start in the future, or leave it empty."
START_TOO_FAR = "Choose a start within the next two years, or leave it empty and agree on a time later."


def scheduled_start_problem(start: datetime) -> str:
    """Why this start cannot be booked ("" if it can); the create form shows it beside the other fields' errors."""
    now = timezone.now()
    if start <= now:
        return START_PASSED
    if start > now + timedelta(days=MAX_SCHEDULE_DAYS):
        return START_TOO_FAR
    return ""


@transaction.atomic
def consultation_create(
    *,
    sme: User,
    title: str,
    agreed_minutes: int,
    price_cents: int,
    scheduled_start: datetime | None = None,
    scheduled_tz: str = "",
    creation_key: str = "",
) -> Consultation:
    """A new consultation waiting for its client. The same creation_key (one per form) creates it only once."""
    standing = sme_hosting_standing(user=sme)
    if not standing.allowed:
        raise ConsultationError(standing.reason, code="not_allowed")
    if creation_key:
        existing = Consultation.objects.filter(sme=sme, creation_key=creation_key).first()
        if existing is not None:
            return existing  # a double click or a resubmitted form
    title = title.strip()
    errors = {}
    if not title:
        errors["title"] = "Give the consultation a title, for example: Tax return review."
    elif len(title) > Consultation._meta.get_field("title").max_length:
        errors["title"] = "Keep the title under 120 characters."
    elif any(unicodedata.category(char) == "Cc" for char in title):
        # A line break would make every e-mail subject invalid (no e-mail at all) and break the .ics lines.
        errors["title"] = "Write the title on one line, without tabs or line breaks."
    if not _is_int(agreed_minutes) or not 1 <= agreed_minutes <= MAX_MINUTES:
        errors["agreed_minutes"] = f"The duration is between 1 and {MAX_MINUTES} minutes."
    if not _is_int(price_cents) or not 0 <= price_cents <= MAX_PRICE_CENTS:
        errors["price_cents"] = f"The price is between 0 and {MAX_PRICE_CENTS // 100:,}."
    if scheduled_start is not None:
        if timezone.is_naive(scheduled_start):
            raise ValueError("scheduled_start must be an aware datetime")
        problem = scheduled_start_problem(scheduled_start)
        if problem:
            errors["scheduled_start"] = problem
    if scheduled_tz:
        try:
            ZoneInfo(scheduled_tz)
        except (ZoneInfoNotFoundError, ValueError):
            errors["scheduled_start"] = f"Unknown time zone {scheduled_tz!r}."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            consultation = Consultation.objects.create(
                sme=sme,
                title=title,
                agreed_minutes=agreed_minutes,
                price_cents=price_cents,
                currency=settings.CURRENCY,
                scheduled_start=scheduled_start,
                scheduled_tz=scheduled_tz if scheduled_start else "",
                creation_key=creation_key,
            )
    except IntegrityError:
        # Two submits of one form at the same moment: the other one created it.
        existing = Consultation.objects.filter(sme=sme, creation_key=creation_key).first() if creation_key else None
        if existing is None:
            raise
        return existing
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
    if consultation.client_id == client.pk and not consultation.is_closed:
        return consultation  # a second click, or the same person in another tab
    if not client.is_client:
        raise ConsultationError(
            "Consultations are booked with a client account. Log out and log in (or sign up) as a client.",
            code="not_client",
        )
    if not client.is_active or client.is_closed:
        raise ConsultationError("This account is closed; open a new client account to book.", code="not_client")
    if consultation.state == State.CREATED and not sme_hosting_standing(user=consultation.sme).allowed:
        raise ConsultationError(
            "The expert can no longer host consultations, so this one cannot be booked.", code="sme_not_allowed"
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
        if consultation.is_closed and consultation.client_id in (None, client.pk):
            raise ConsultationError(
                f"This consultation is {consultation.get_state_display().lower()}; ask the expert for a new link.",
                code="closed",
            )
        if consultation.client_id == client.pk:
            return consultation  # the same person's other tab got there first
        raise ConsultationError(
            "This consultation belongs to someone else: another client claimed it first. "
            "Ask the expert for a link of your own.",
            code="taken",
        )
    if consultation.is_free:
        # Claimed and ready in one step: one e-mail ("the room is open") says both.
        consultation_mark_ready(consultation=consultation)
    else:
        consultation_notify_on_commit(consultation=consultation, kind="claimed")
    return consultation


@transaction.atomic
def consultation_mark_ready(*, consultation: Consultation, actor: User | None = None) -> bool:
    """Claimed → ready: free, or paid (checkout calls this once the payment is captured)."""
    done = _transition(
        consultation,
        from_states=(State.CLAIMED,),
        to_state=State.READY,
        event="consultation.ready",
        actor=actor,
        extra={"ready_at": timezone.now()},
    )
    if done:
        consultation_notify_on_commit(consultation=consultation, kind="ready")
    return done


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
def consultation_complete(*, consultation: Consultation, actor: User | None, only_if_room_empty: bool = False) -> bool:
    """Live → completed: the SME ends it in the room (actor), or it completes by itself (actor None).

    only_if_room_empty: checked in the same UPDATE, so someone who rejoined after the caller looked is not cut off.
    """
    if actor is not None and actor.pk != consultation.sme_id:
        raise ConsultationError("Only the expert can end the consultation.", code="not_sme")
    return _transition(
        consultation,
        from_states=(State.LIVE,),
        to_state=State.COMPLETED,
        event="consultation.completed",
        actor=actor,
        extra={"ended_at": timezone.now(), "ended_by": actor},
        also=Q(sme_channel="", client_channel="") if only_if_room_empty else None,
    )


@transaction.atomic
def consultation_credit_earning(*, consultation: Consultation) -> LedgerEntry:
    """Credit the SME's ledger with the price of a paid consultation that completed. Once per consultation."""
    if consultation.state != State.COMPLETED:
        raise LedgerError("Only a completed consultation earns its SME a credit.")
    if consultation.price_cents <= 0:
        raise LedgerError("A free consultation earns nothing to credit.")
    return ledger_credit_earning(
        account=consultation.sme,
        amount_cents=consultation.price_cents,
        currency=consultation.currency,
        source_key=f"consultation:{consultation.pk}",
    )


@transaction.atomic
def consultation_cancel(*, consultation: Consultation, actor: User, reason: str = "") -> bool:
    """The SME may cancel before it was live; the client before it is ready (paid).

    Returns False when it was already cancelled (a double click); raises when it is too late.
    """
    if actor.pk == consultation.sme_id:
        allowed = Consultation.CANCEL_STATES["sme"]
        too_late = "It was already live, so it can no longer be cancelled; end it in the room instead."
    elif consultation.client_id is not None and actor.pk == consultation.client_id:
        allowed = Consultation.CANCEL_STATES["client"]
        too_late = "It is already paid or ready, so only the expert can cancel it now: ask the expert to cancel it."
    elif actor.is_staff:
        allowed = Consultation.CANCEL_STATES["sme"]
        too_late = "It was already live, so it can no longer be cancelled."
    else:
        raise ConsultationError("Only its expert or its client can cancel a consultation.", code="not_member")
    done = _transition(
        consultation,
        from_states=allowed,
        to_state=State.CANCELLED,
        event="consultation.cancelled",
        actor=actor,
        extra={"ended_at": timezone.now(), "ended_by": actor, "end_reason": reason.strip()[:200]},
    )
    if done:
        consultation_notify_on_commit(consultation=consultation, kind="cancelled")
        return True
    if consultation.state == State.CANCELLED:
        return False
    if consultation.state in (State.COMPLETED, State.EXPIRED):
        raise ConsultationError(
            f"It is already {consultation.get_state_display().lower()}; there is nothing to cancel.", code="closed"
        )
    raise ConsultationError(too_late, code="too_late")


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
    """Expire what was never live within the allowed days after its creation or its scheduled start, if later."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CONSULTATION_EXPIRE_DAYS)
    count = 0
    for consultation in Consultation.objects.filter(
        Q(scheduled_start__isnull=True) | Q(scheduled_start__lt=cutoff),
        state__in=(State.CREATED, State.CLAIMED, State.READY),
        created_at__lt=cutoff,
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
            count += consultation_complete(consultation=consultation, actor=None, only_if_room_empty=True)
    return count


def consultations_remind_due(*, now: datetime | None = None) -> int:
    """Send the "about to start" e-mails, once each, for booked consultations starting within the lead time."""
    now = now or timezone.now()
    lead = timedelta(minutes=settings.CONSULTATION_REMINDER_MINUTES)
    count = 0
    due = Consultation.objects.filter(
        state__in=(State.CLAIMED, State.READY),
        reminder_sent_at__isnull=True,
        scheduled_start__gt=now,
        scheduled_start__lte=now + lead,
    )
    for consultation in due:
        with transaction.atomic():
            # The conditional UPDATE is the record: two runs at once still send one reminder.
            if Consultation.objects.filter(pk=consultation.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            ):
                # Claimed a few minutes before its start, or a late run: say how soon it really starts.
                minutes_left = math.ceil((consultation.scheduled_start - now).total_seconds() / 60)
                consultation_notify_on_commit(consultation=consultation, kind="starting", minutes_left=minutes_left)
                count += 1
    return count


# --- Closing an SME account (called by accounts.services.user_close). ---


@transaction.atomic
def consultations_cancel_for_closed_sme(*, sme: User, actor: User) -> int:
    """Cancel the SME's consultations that were never live: nobody is left to host them. Live ones complete as usual."""
    count = 0
    for consultation in Consultation.objects.filter(sme=sme, state__in=Consultation.CANCEL_STATES["sme"]):
        if _transition(
            consultation,
            from_states=Consultation.CANCEL_STATES["sme"],
            to_state=State.CANCELLED,
            event="consultation.cancelled",
            actor=actor,
            extra={"ended_at": timezone.now(), "ended_by": actor, "end_reason": "The expert closed their account."},
        ):
            consultation_notify_on_commit(consultation=consultation, kind="cancelled")
            count += 1
    return count
