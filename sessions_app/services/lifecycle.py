"""The consultation's life: creation, claim, payment-ready, completion, cancellation, expiry, extensions.

Each transition is one function, guarded by a conditional UPDATE (… WHERE state IN …) or a row lock,
so a double click or a second tab cannot apply it twice; each writes an audit row.
"""

from __future__ import annotations

import unicodedata
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

from ..models import Consultation, ConsultationExtension, Refund
from ..notifications import consultation_notify_on_commit
from .common import ConsultationError, is_int, transition
from .refunds import consultation_credit_earning, consultation_refund_on_close

State = Consultation.State

MAX_MINUTES = 8 * 60
MAX_PRICE_CENTS = 100_000_00  # 100,000.00: a typo guard, not a business rule
MAX_EXTENSION_MINUTES = 240
MAX_SCHEDULE_DAYS = 2 * 366  # a typo guard (a year typed as 2062), and it keeps every derived time in range


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
    if not is_int(agreed_minutes) or not 1 <= agreed_minutes <= MAX_MINUTES:
        errors["agreed_minutes"] = f"The duration is between 1 and {MAX_MINUTES} minutes."
    if not is_int(price_cents) or not 0 <= price_cents <= MAX_PRICE_CENTS:
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
    claimed = transition(
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
    done = transition(
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
def consultation_complete(*, consultation: Consultation, actor: User | None, only_if_room_empty: bool = False) -> bool:
    """Live → completed: the SME ends it in the room (actor), or it completes by itself (actor None).

    only_if_room_empty: checked in the same UPDATE, so someone who rejoined after the caller looked is not cut off.
    """
    if actor is not None and actor.pk != consultation.sme_id:
        raise ConsultationError("Only the expert can end the consultation.", code="not_sme")
    completed = transition(
        consultation,
        from_states=(State.LIVE,),
        to_state=State.COMPLETED,
        event="consultation.completed",
        actor=actor,
        extra={"ended_at": timezone.now(), "ended_by": actor},
        also=Q(sme_channel="", client_channel="") if only_if_room_empty else None,
    )
    if completed and not consultation.is_free:
        # In the same transaction: the completion and the SME's earning commit together, or neither.
        consultation_credit_earning(consultation=consultation)
    return completed


@transaction.atomic
def consultation_cancel(
    *, consultation: Consultation, actor: User, reason: str = "", refund_reason: str = Refund.Reason.CANCELLED
) -> bool:
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
    done = transition(
        consultation,
        from_states=allowed,
        to_state=State.CANCELLED,
        event="consultation.cancelled",
        actor=actor,
        extra={"ended_at": timezone.now(), "ended_by": actor, "end_reason": reason.strip()[:200]},
    )
    if done:
        # A paid one is refunded in full: the refund row commits with the cancellation, PayPal is asked after.
        consultation_refund_on_close(consultation=consultation, reason=refund_reason, actor=actor)
        consultation_notify_on_commit(consultation=consultation, kind="cancelled")
        return True
    if consultation.state == State.CANCELLED:
        return False
    if consultation.state in Consultation.CLOSED_STATES:  # cancelled was answered above
        raise ConsultationError(
            f"It is already {consultation.get_state_display().lower()}; there is nothing to cancel.", code="closed"
        )
    raise ConsultationError(too_late, code="too_late")


@transaction.atomic
def consultation_expire(*, consultation: Consultation) -> bool:
    """Never live within the configured number of days after creation."""
    expired = transition(
        consultation,
        from_states=Consultation.NOT_YET_LIVE_STATES,
        to_state=State.EXPIRED,
        event="consultation.expired",
        actor=None,
        extra={"ended_at": timezone.now(), "end_reason": "Never held within the time allowed."},
    )
    if expired:
        consultation_refund_on_close(consultation=consultation, reason=Refund.Reason.EXPIRED)
    return expired


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


# --- Closing an SME account (called by interkanect.services.account_close). ---


@transaction.atomic
def consultations_cancel_for_closed_sme(*, sme: User, actor: User) -> int:
    """Cancel the SME's consultations that were never live: nobody is left to host them. Live ones complete as usual."""
    count = 0
    for consultation in Consultation.objects.filter(sme=sme, state__in=Consultation.CANCEL_STATES["sme"]):
        if transition(
            consultation,
            from_states=Consultation.CANCEL_STATES["sme"],
            to_state=State.CANCELLED,
            event="consultation.cancelled",
            actor=actor,
            extra={"ended_at": timezone.now(), "ended_by": actor, "end_reason": "The expert closed their account."},
        ):
            consultation_refund_on_close(consultation=consultation, reason=Refund.Reason.SME_CLOSED, actor=actor)
            consultation_notify_on_commit(consultation=consultation, kind="cancelled")
            count += 1
    return count
