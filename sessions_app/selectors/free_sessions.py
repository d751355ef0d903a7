"""The free-session policy's reads: its limits (from settings), an SME's figures, and where the SME stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User

from ..models import Consultation, FreeSessionReviewCase


@dataclass(frozen=True)
class FreeSessionLimits:
    window_days: int
    max_count: int  # more free sessions than this in the window crosses the limit
    max_share_percent: int  # more than this share free crosses it, ...
    share_min_sessions: int  # ... once the SME held at least this many live sessions in the window
    warn_remaining: int  # the dashboard warns when this many free sessions or fewer are left

    @classmethod
    def from_settings(cls) -> FreeSessionLimits:
        # Read at call time, not import time, so an override (tests, environment) takes effect.
        return cls(
            window_days=settings.FREE_SESSION_WINDOW_DAYS,
            max_count=settings.FREE_SESSION_MAX_COUNT,
            max_share_percent=settings.FREE_SESSION_MAX_SHARE_PERCENT,
            share_min_sessions=settings.FREE_SESSION_SHARE_MIN_SESSIONS,
            warn_remaining=settings.FREE_SESSION_WARN_REMAINING,
        )


@dataclass(frozen=True)
class FreeSessionFigures:
    """An SME's live and free sessions in the window ending at window_end, against the limits."""

    window_start: datetime
    window_end: datetime
    live_sessions: int
    free_sessions: int
    limits: FreeSessionLimits

    @property
    def share_applies(self) -> bool:
        return self.live_sessions >= self.limits.share_min_sessions

    @property
    def over_count(self) -> bool:
        return self.free_sessions > self.limits.max_count

    @property
    def over_share(self) -> bool:
        # Integers only: "free / live > percent / 100" without rounding surprises at the edge.
        return self.share_applies and self.free_sessions * 100 > self.limits.max_share_percent * self.live_sessions

    @property
    def over(self) -> bool:
        return self.over_count or self.over_share

    @property
    def crossed(self) -> str:
        parts = []
        if self.over_count:
            parts.append(f"more than {self.limits.max_count} free sessions")
        if self.over_share:
            parts.append(f"more than {self.limits.max_share_percent}% of {self.live_sessions} sessions free")
        return " and ".join(parts)

    @property
    def share_limit(self) -> int:
        """The most free sessions the share rule allows at the current number of live sessions."""
        return self.limits.max_share_percent * self.live_sessions // 100

    @property
    def limit(self) -> int:
        """The limit that binds now, as a count of free sessions ("4 of your last 10 were free; the limit is 5")."""
        if self.share_applies:
            return min(self.limits.max_count, self.share_limit)
        return self.limits.max_count

    @property
    def limit_is_share(self) -> bool:
        return self.share_applies and self.share_limit < self.limits.max_count

    @property
    def share_limit_ahead(self) -> bool:
        """The share limit does not apply yet but will stop the SME before the count limit does: say so."""
        return not self.share_applies and not self.over and self.free_left < self.limits.max_count - self.free_sessions

    @property
    def free_left(self) -> int:
        """How many more free sessions (with no paid one between) the SME can give before crossing a limit."""
        if self.over:
            return 0
        # Each further free session adds to both the free and the live count. The k-th one crosses the
        # count limit when free + k > max_count, and the share limit when the SME then held enough
        # sessions and (free + k) * 100 > percent * (live + k), i.e. k * (100 - percent) > percent * live - 100 * free.
        to_cross_count = self.limits.max_count - self.free_sessions + 1
        percent = self.limits.max_share_percent
        to_cross = to_cross_count
        if percent < 100:
            by_share = (percent * self.live_sessions - 100 * self.free_sessions) // (100 - percent) + 1
            to_cross_share = max(by_share, self.limits.share_min_sessions - self.live_sessions, 1)
            to_cross = min(to_cross, to_cross_share)
        return max(to_cross - 1, 0)

    @property
    def warning(self) -> bool:
        return not self.over and self.free_left <= self.limits.warn_remaining


def free_session_figures(
    *, sme: User, now: datetime | None = None, limits: FreeSessionLimits | None = None
) -> FreeSessionFigures:
    """Count the SME's sessions that went live in the rolling window (window_end - days, window_end]."""
    limits = limits or FreeSessionLimits.from_settings()
    now = now or timezone.now()
    start = now - timedelta(days=limits.window_days)
    # A session counts once it was live (both people connected), whatever happened to it afterwards.
    counts = Consultation.objects.filter(sme=sme, live_at__gt=start, live_at__lte=now).aggregate(
        live=Count("id"), free=Count("id", filter=Q(price_cents=0))
    )
    return FreeSessionFigures(
        window_start=start,
        window_end=now,
        live_sessions=counts["live"],
        free_sessions=counts["free"],
        limits=limits,
    )


def free_session_candidates(*, now: datetime | None = None) -> list[User]:
    """SMEs worth evaluating: not disqualified, with at least one free session live in the window."""
    limits = FreeSessionLimits.from_settings()
    now = now or timezone.now()
    start = now - timedelta(days=limits.window_days)
    return list(
        User.objects.filter(
            role=User.Role.SME,
            sme_profile__disqualified_at__isnull=True,
            hosted_consultations__price_cents=0,
            hosted_consultations__live_at__gt=start,
            hosted_consultations__live_at__lte=now,
        )
        .distinct()
        .order_by("pk")
    )


@dataclass(frozen=True)
class FreeSessionStanding:
    """What the SME's dashboard says about free sessions."""

    figures: FreeSessionFigures
    under_review: bool  # an open case: an admin will look at the account
    disqualified: bool


def sme_free_session_standing(*, user: User, now: datetime | None = None) -> FreeSessionStanding:
    profile = getattr(user, "sme_profile", None)
    return FreeSessionStanding(
        figures=free_session_figures(sme=user, now=now),
        under_review=FreeSessionReviewCase.objects.filter(
            sme=user, kind=FreeSessionReviewCase.Kind.FREE_SESSIONS, status=FreeSessionReviewCase.Status.OPEN
        ).exists(),
        disqualified=bool(profile and profile.is_disqualified),
    )
