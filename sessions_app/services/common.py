"""What every consultation write shares: the error it raises and the guarded state transition."""

from __future__ import annotations

from django.db.models import Q

from accounts.models import User
from accounts.services import audit_record

from ..models import Consultation


class ConsultationError(Exception):
    """A transition that cannot happen now; the message says why and what to do next."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def transition(
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


def is_int(value) -> bool:
    # Money and minutes are whole numbers: a float or a Decimal here is a bug upstream, not something to round.
    return isinstance(value, int) and not isinstance(value, bool)
