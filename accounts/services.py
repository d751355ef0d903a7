"""Every write to accounts: registration, activation, usernames, profiles, closing, and the audit log."""

from __future__ import annotations

import zoneinfo
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from .models import AuditEvent, SMEProfile, User
from .usernames import username_validate


def audit_record(
    *,
    event: str,
    actor: User | None = None,
    subject: User | None = None,
    target: Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        event=event,
        actor=actor,
        subject=subject,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )


def _known_time_zone(name: str) -> str:
    """The IANA name if Python knows it, else "" (a browser's answer, not trusted blindly)."""
    name = (name or "").strip()
    if not name or len(name) > 64 or name not in zoneinfo.available_timezones():
        return ""
    return name


@transaction.atomic
def user_register(*, user: User, role: str, display_name: str = "", headline: str = "", time_zone: str = "") -> User:
    """Finish a sign-up: set the role and, for an SME, create their profile."""
    if role not in User.Role.values:
        raise ValidationError({"role": "Choose whether you are an expert (SME) or a client."})
    user.role = role
    user.time_zone = _known_time_zone(time_zone)
    user.save(update_fields=["role", "time_zone"])
    if role == User.Role.SME:
        SMEProfile.objects.create(
            user=user, display_name=(display_name or user.username).strip(), headline=headline.strip()
        )
    audit_record(event="account.registered", actor=user, subject=user, data={"role": role})
    return user


@transaction.atomic
def user_time_zone_set(*, user: User, time_zone: str) -> bool:
    """Remember the time zone a person's browser reported (claiming a consultation); unknown names are ignored
    (an e-mail then shows UTC and the expert's zone). Returns whether it changed."""
    name = _known_time_zone(time_zone)
    if not name or name == user.time_zone:
        return False
    User.objects.filter(pk=user.pk).update(time_zone=name)
    user.time_zone = name
    return True


@transaction.atomic
def user_activate(*, user: User) -> bool:
    """Mark the account activated (its e-mail address confirmed). From now on the username is fixed.

    Returns False when it already was: a second click on the link changes nothing.
    """
    now = timezone.now()
    updated = User.objects.filter(pk=user.pk, activated_at__isnull=True).update(activated_at=now)
    if updated:
        user.activated_at = now
        audit_record(event="account.activated", actor=user, subject=user, data={"username": user.username})
    return bool(updated)


@transaction.atomic
def user_rename_before_activation(*, user: User, username: str) -> User:
    """Correct a username that has not been activated yet. The model layer refuses it afterwards."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.username == username:
        return locked
    # The same rules as sign-up (length, characters, reserved, taken ignoring case); the account may
    # re-case its own name.
    username_validate(username, exclude_pk=locked.pk)
    old = locked.username
    locked.username = username
    locked.save(update_fields=["username"])  # UsernameLockedError if activated meanwhile
    audit_record(event="account.username_corrected", actor=locked, subject=locked, data={"from": old, "to": username})
    user.username = username
    return locked


@transaction.atomic
def sme_profile_update(*, profile: SMEProfile, display_name: str, headline: str) -> SMEProfile:
    profile.display_name = display_name.strip()
    profile.headline = headline.strip()
    profile.full_clean(exclude=["user"])
    profile.save(update_fields=["display_name", "headline"])
    return profile


@transaction.atomic
def user_close(*, user: User, actor: User) -> User:
    """Close an account: it can no longer log in or host. Its ledger and balance are kept (and a
    balance is still paid out); its e-mail address is freed so it may register again.

    The site closes accounts through interkanect.services.account_close, which also cancels what an
    SME can no longer host."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.closed_at is not None:
        raise ValidationError("This account is already closed.")
    locked.closed_email = locked.email
    locked.email = ""
    locked.is_active = False
    locked.closed_at = timezone.now()
    locked.save(update_fields=["closed_email", "email", "is_active", "closed_at"])
    EmailAddress.objects.filter(user=locked).delete()
    # The PayPal account is freed for a new SME account (FAQ: "activate a new SME account"); the link
    # itself stays, so a remaining balance is still paid out to it.
    SMEProfile.objects.filter(user=locked).update(holds_paypal=False)
    audit_record(event="account.closed", actor=actor, subject=locked, data={"email": locked.closed_email})
    return locked
