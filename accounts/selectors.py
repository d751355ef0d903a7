"""Reads about accounts that are worth a name."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from .models import User


@dataclass(frozen=True)
class HostingStanding:
    allowed: bool
    reason: str  # shown to the person when not allowed; says what to do next


def sme_hosting_standing(*, user: User) -> HostingStanding:
    """Whether this user may create and host consultations now, and if not, why."""
    if not user.is_authenticated or not user.is_sme:
        return HostingStanding(False, "Only subject-matter expert (SME) accounts host consultations.")
    if user.is_closed or not user.is_active:
        return HostingStanding(False, "This SME account is closed. Open a new SME account to host again.")
    profile = getattr(user, "sme_profile", None)
    if profile is None:
        return HostingStanding(False, "This SME account has no profile. Contact support.")
    if profile.is_disqualified:
        reason = (profile.disqualification_reason or "too many sessions were given away for free").rstrip()
        end = "" if reason.endswith((".", "!", "?")) else "."  # the admin may have ended their sentence
        return HostingStanding(
            False, f"Your SME account was disqualified: {reason}{end} Earned balances are still paid out."
        )
    return HostingStanding(True, "")


def session_user(*, session_key: str | None) -> User | AnonymousUser:
    """The user a session cookie logs in, with the checks Django's own middleware makes (a session whose
    password hash no longer matches is logged out); AnonymousUser for none or a stale one. For connections
    that are not Django requests (the room's WebSocket)."""
    if not session_key:
        return AnonymousUser()
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(request)
