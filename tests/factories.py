"""Factories for test data. They go through the services, as the app does."""

from __future__ import annotations

import itertools

from allauth.account.models import EmailAddress

from accounts import services
from accounts.models import User

PASSWORD = "a-Strong-pass-42"
_counter = itertools.count(1)


def make_user(*, role: str = User.Role.CLIENT, username: str | None = None, activated: bool = True, **profile) -> User:
    n = next(_counter)
    username = username or f"{role}{n}"
    user = User(username=username, email=f"{username}@example.com")
    user.set_password(PASSWORD)
    user.save()
    services.user_register(user=user, role=role, **profile)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=activated)
    if activated:
        services.user_activate(user=user)
    user.refresh_from_db()
    return user


def make_sme(**kwargs) -> User:
    kwargs.setdefault("display_name", "Ada Expert")
    kwargs.setdefault("headline", "Distributed systems, explained")
    return make_user(role=User.Role.SME, **kwargs)


def make_client(**kwargs) -> User:
    return make_user(role=User.Role.CLIENT, **kwargs)
