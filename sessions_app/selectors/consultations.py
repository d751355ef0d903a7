"""Reads about consultations worth a name: a consultation by its link, who may cancel, the lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import F, Prefetch

from accounts.models import User

from ..models import Consultation, ConsultationExtension
from .payments import payments_prefetch

State = Consultation.State


# Join tokens are URL-safe base64 (models.new_join_token). Anything else is a forged or mangled link: it
# matches nothing, and never reaches the database (PostgreSQL refuses a NUL byte with an error, not a miss).
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def consultation_by_token(*, token: str) -> Consultation | None:
    if not token or not TOKEN_SHAPE.fullmatch(token):
        return None
    return Consultation.objects.select_related("sme__sme_profile", "client").filter(token=token).first()


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
        Prefetch("extensions", queryset=ConsultationExtension.objects.order_by("proposed_at")),
        payments_prefetch(),  # what each item says about its money
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
