"""The free-session policy's writes: opening review cases, and the admin's decisions on them.

A second kind of case shares the review: an SME who links (or tries to link) the PayPal account of a
disqualified SME, which would let a disqualified SME be paid through a new account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SMEProfile, User
from accounts.services import audit_record
from payouts import services as payouts_services
from payouts.selectors import paypal_account_holders

from ..models import Consultation, FreeSessionReviewCase, Refund
from ..selectors.free_sessions import FreeSessionFigures, free_session_candidates, free_session_figures
from .common import ConsultationError
from .lifecycle import consultation_cancel

logger = logging.getLogger(__name__)

Case = FreeSessionReviewCase
REVIEW_PERMISSION = "sessions_app.review_free_session_case"
CANCEL_REASON = "The expert's account was disqualified."


class ReviewError(Exception):
    """A decision that cannot be made now; the message says why."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class PolicyEvaluation:
    figures: FreeSessionFigures | None  # None: the SME was not evaluated (not hosting)
    case: FreeSessionReviewCase | None  # the open case, new or already there
    opened: bool  # this evaluation opened it


def _require_reviewer(actor: User) -> None:
    if not (actor.is_active and actor.is_staff and actor.has_perm(REVIEW_PERMISSION)):
        raise ReviewError("Only staff allowed to review free-session cases can decide them.", code="not_allowed")


def _require_open(case: FreeSessionReviewCase) -> None:
    case.refresh_from_db()
    if case.status != Case.Status.OPEN:
        raise ReviewError(
            f"This case was already decided ({case.get_status_display().lower()}); a decision cannot be changed.",
            code="decided",
        )


def _lock_profile(sme: User) -> SMEProfile:
    # Evaluations and decisions about one SME take turns on their profile row.
    return SMEProfile.objects.select_for_update().get(user_id=sme.pk)


@transaction.atomic
def policy_evaluate_sme(*, sme: User, now: datetime | None = None) -> PolicyEvaluation:
    """Open a review case when the SME is over a free-session limit and has none open. Safe to repeat.

    After an admin dismissed a case (or reinstated the SME), the same sessions do not open another one:
    a new case needs a free session that went live after that decision.
    """
    now = now or timezone.now()
    if not sme.is_sme or not hasattr(sme, "sme_profile"):
        return PolicyEvaluation(None, None, False)
    profile = _lock_profile(sme)
    if profile.is_disqualified or sme.is_closed:
        return PolicyEvaluation(None, None, False)
    figures = free_session_figures(sme=sme, now=now)
    cases = Case.objects.filter(sme=sme, kind=Case.Kind.FREE_SESSIONS)
    open_case = cases.filter(status=Case.Status.OPEN).first()
    if open_case is not None or not figures.over:
        return PolicyEvaluation(figures, open_case, False)
    last_decided = cases.exclude(status=Case.Status.OPEN).order_by("-decided_at").first()
    if last_decided is not None:
        since = last_decided.reinstated_at or last_decided.decided_at
        new_evidence = Consultation.objects.filter(sme=sme, price_cents=0, live_at__gt=since, live_at__lte=now)
        if not new_evidence.exists():
            return PolicyEvaluation(figures, None, False)
    limits = figures.limits
    case = Case.objects.create(
        sme=sme,
        window_start=figures.window_start,
        window_end=figures.window_end,
        live_sessions=figures.live_sessions,
        free_sessions=figures.free_sessions,
        max_count=limits.max_count,
        max_share_percent=limits.max_share_percent,
        share_min_sessions=limits.share_min_sessions,
        crossed=figures.crossed,
    )
    audit_record(
        event="free_sessions.case_opened",
        subject=sme,
        target=case,
        data={"live": figures.live_sessions, "free": figures.free_sessions, "crossed": figures.crossed},
    )
    return PolicyEvaluation(figures, case, True)


@transaction.atomic
def review_open_for_shared_paypal(*, sme: User, holders: list[SMEProfile]) -> FreeSessionReviewCase | None:
    """Open a case for staff when the SME linked, or tried to link, a PayPal account that a disqualified
    SME holds or held (open or closed account). At most one open such case per SME; None if no holder
    is disqualified."""
    disqualified = [holder for holder in holders if holder.is_disqualified and holder.user_id != sme.pk]
    if not disqualified or not hasattr(sme, "sme_profile"):
        return None
    _lock_profile(sme)
    open_case = Case.objects.filter(sme=sme, kind=Case.Kind.SHARED_PAYPAL, status=Case.Status.OPEN).first()
    if open_case is not None:
        return open_case
    holder = disqualified[0].user
    figures = free_session_figures(sme=sme)  # for the reviewer: how this account has been hosting
    limits = figures.limits
    case = Case.objects.create(
        sme=sme,
        kind=Case.Kind.SHARED_PAYPAL,
        paypal_holder=holder,
        window_start=figures.window_start,
        window_end=figures.window_end,
        live_sessions=figures.live_sessions,
        free_sessions=figures.free_sessions,
        max_count=limits.max_count,
        max_share_percent=limits.max_share_percent,
        share_min_sessions=limits.share_min_sessions,
        crossed=f"PayPal account of disqualified SME {holder.username}"[:80],
    )
    audit_record(
        event="paypal.shared_with_disqualified",
        subject=sme,
        target=case,
        data={"holders": [profile.user.username for profile in disqualified]},
    )
    return case


def sme_paypal_link(
    *,
    profile: SMEProfile,
    email: str,
    payer_id: str = "",
    verified: bool,
    actor: User,
    replace_verified: bool = False,
) -> SMEProfile:
    """Link the SME's PayPal account (payouts refuses one that another open SME account holds), and open a
    review case when a disqualified SME holds or held it.

    Not one transaction: the case is opened even when the link is refused, since trying is the signal.
    """
    holders = paypal_account_holders(email=email.strip(), payer_id=payer_id.strip(), exclude=profile)
    try:
        if verified:
            linked = payouts_services.sme_paypal_connect(profile=profile, email=email, payer_id=payer_id, actor=actor)
        else:
            linked = payouts_services.sme_paypal_enter_email(
                profile=profile, email=email, actor=actor, replace_verified=replace_verified
            )
    except payouts_services.PayPalAccountTaken:
        review_open_for_shared_paypal(sme=profile.user, holders=holders)
        raise
    review_open_for_shared_paypal(sme=profile.user, holders=holders)
    return linked


def policy_evaluate_after_live(*, sme_id: int) -> None:
    """Run by consultation_go_live once its transaction committed: a free session just started to count."""
    sme = User.objects.select_related("sme_profile").filter(pk=sme_id).first()
    if sme is not None:
        policy_evaluate_sme(sme=sme)


def policy_evaluate_due(*, now: datetime | None = None) -> tuple[int, int]:
    """The periodic sweep: evaluate every SME with a free session in the window. Returns (evaluated, opened)."""
    now = now or timezone.now()
    evaluated = opened = 0
    for sme in free_session_candidates(now=now):
        try:
            result = policy_evaluate_sme(sme=sme, now=now)
        except Exception:
            # One SME's failure must not stop the sweep for the others; the next run retries.
            logger.exception("Free-session evaluation failed for SME %s", sme.pk)
            continue
        evaluated += 1
        opened += result.opened
    return evaluated, opened


@transaction.atomic
def review_disqualify(
    *, case: FreeSessionReviewCase, actor: User, reason: str, cancel_open_consultations: bool
) -> FreeSessionReviewCase:
    """Disqualify the case's SME: they can no longer create or host. Earned balances are not touched.

    Consultations not held yet are cancelled (their members are e-mailed) or left as
    they are for admins to decide; a live one always runs to its end.
    """
    _require_reviewer(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Write the reason the expert will see on their dashboard."})
    sme = case.sme
    profile = _lock_profile(sme)
    _require_open(case)
    now = timezone.now()
    choice = Case.OpenConsultations.CANCEL if cancel_open_consultations else Case.OpenConsultations.LEAVE
    cancelled = []
    if cancel_open_consultations:
        pending = Consultation.objects.filter(sme=sme, state__in=Consultation.NOT_YET_LIVE_STATES)
        for consultation in pending:
            try:
                if consultation_cancel(
                    consultation=consultation,
                    actor=actor,
                    reason=CANCEL_REASON,
                    refund_reason=Refund.Reason.SME_DISQUALIFIED,
                ):
                    cancelled.append(consultation.pk)
            except ConsultationError:
                pass  # it went live meanwhile: it runs to its end
    # One write: the decision is final from here (the database refuses any later change to it).
    decided = Case.objects.filter(pk=case.pk, status=Case.Status.OPEN).update(
        status=Case.Status.DISQUALIFIED,
        decided_at=now,
        decided_by=actor,
        decision_text=reason,
        open_consultations=choice,
        cancelled_consultations=len(cancelled),
    )
    if not decided:
        _require_open(case)  # raises: decided meanwhile (and this transaction, cancellations too, rolls back)
    profile.disqualified_at = now
    profile.disqualification_reason = reason
    profile.save(update_fields=["disqualified_at", "disqualification_reason"])
    audit_record(
        event="free_sessions.sme_disqualified",
        actor=actor,
        subject=sme,
        target=case,
        data={"reason": reason, "open_consultations": choice, "cancelled": cancelled},
    )
    case.refresh_from_db()
    return case


@transaction.atomic
def review_dismiss(*, case: FreeSessionReviewCase, actor: User, note: str) -> FreeSessionReviewCase:
    """Close the case without consequence for the SME; the note says why, for the other admins."""
    _require_reviewer(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Write a note for the other admins: why is this fine?"})
    _lock_profile(case.sme)
    _require_open(case)
    decided = Case.objects.filter(pk=case.pk, status=Case.Status.OPEN).update(
        status=Case.Status.DISMISSED, decided_at=timezone.now(), decided_by=actor, decision_text=note
    )
    if not decided:
        _require_open(case)
    audit_record(event="free_sessions.case_dismissed", actor=actor, subject=case.sme, target=case, data={"note": note})
    case.refresh_from_db()
    return case


@transaction.atomic
def sme_reinstate(*, sme: User, actor: User, note: str) -> SMEProfile:
    """Let a disqualified SME host again. The disqualifying decision stays on record beside this one."""
    _require_reviewer(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Write a note for the other admins: why may this expert host again?"})
    profile = _lock_profile(sme)
    if not profile.is_disqualified:
        raise ReviewError("This expert is not disqualified.", code="not_disqualified")
    now = timezone.now()
    case = Case.objects.filter(sme=sme, status=Case.Status.DISQUALIFIED).order_by("-decided_at").first()
    if case is not None:
        Case.objects.filter(pk=case.pk, status=Case.Status.DISQUALIFIED).update(
            status=Case.Status.REINSTATED, reinstated_at=now, reinstated_by=actor, reinstatement_note=note
        )
    previous_reason = profile.disqualification_reason
    profile.disqualified_at = None
    profile.disqualification_reason = ""
    profile.save(update_fields=["disqualified_at", "disqualification_reason"])
    audit_record(
        event="free_sessions.sme_reinstated",
        actor=actor,
        subject=sme,
        target=case if case is not None else profile,
        data={"note": note, "disqualified_for": previous_reason},
    )
    return profile
