"""The demo data the run command creates (`seed_demo`): an account per role and a free consultation whose room
the demo SME and demo client can both open, so a new user can try both sides at once."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts import services
from accounts.models import User
from sessions_app.models import Consultation
from sessions_app.services import consultation_claim, consultation_create

DEMO_PASSWORD = "demo-pass-2026"
DEMO_TITLE = "Demo: free consultation"
DEMO_USERS = {
    "sme": ("demo-sme", "demo-sme@example.com", User.Role.SME),
    "client": ("demo-client", "demo-client@example.com", User.Role.CLIENT),
    "admin": ("demo-admin", "demo-admin@example.com", User.Role.CLIENT),
}


@transaction.atomic
def demo_accounts_ensure() -> dict[str, User]:
    accounts: dict[str, User] = {}
    for key, (username, email, role) in DEMO_USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=email, is_staff=key == "admin", is_superuser=key == "admin")
            user.set_password(DEMO_PASSWORD)
            user.save()
            services.user_register(
                user=user,
                role=role,
                display_name="Dr. Demo Expert" if role == User.Role.SME else "",
                headline="Tax questions for freelancers, answered live" if role == User.Role.SME else "",
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            services.user_activate(user=user)
        accounts[key] = user
    return accounts


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
