"""The demo accounts the run command creates, so a new user can try both sides at once."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from . import services
from .models import User

DEMO_PASSWORD = "demo-pass-2026"
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
