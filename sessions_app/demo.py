"""The demo consultation the run command creates: free, claimed by the demo client, its room open to both."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User

from .models import Consultation
from .services import consultation_claim, consultation_create

DEMO_TITLE = "Demo: free consultation"


@transaction.atomic
def demo_consultation_ensure(*, sme: User, client: User) -> Consultation:
    """Return the demo SME's open demo consultation with the demo client, creating one if none is open."""
    existing = Consultation.objects.filter(
        sme=sme, client=client, title=DEMO_TITLE, state__in=Consultation.ROOM_STATES
    ).first()
    if existing is not None:
        return existing
    consultation = consultation_create(sme=sme, title=DEMO_TITLE, agreed_minutes=30, price_cents=0)
    return consultation_claim(consultation=consultation, client=client)
