"""Writes that span apps: closing an account (the account itself, and the consultations it can no longer host)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from accounts.services import user_close
from sessions_app.services import consultations_cancel_for_closed_sme


@transaction.atomic
def account_close(*, user: User, actor: User) -> User:
    """Close an account (accounts.services.user_close); an SME's consultations never held are cancelled with it,
    their clients told: nobody is left to host them. Live ones complete as usual; the ledger is untouched."""
    closed = user_close(user=user, actor=actor)
    if closed.is_sme:
        consultations_cancel_for_closed_sme(sme=closed, actor=actor)
    return closed
