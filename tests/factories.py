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


def make_consultation(*, sme: User | None = None, price_cents: int = 0, minutes: int = 30, **kwargs):
    from sessions_app.services import consultation_create

    return consultation_create(
        sme=sme or make_sme(),
        title=kwargs.pop("title", "Quick question"),
        agreed_minutes=minutes,
        price_cents=price_cents,
        **kwargs,
    )


def make_ready_consultation(**kwargs):
    """A free consultation claimed by a client: its room is open."""
    from sessions_app.services import consultation_claim

    client = kwargs.pop("client", None) or make_client()
    consultation = make_consultation(price_cents=0, **kwargs)
    return consultation_claim(consultation=consultation, client=client)


def make_paid_consultation(*, sme: User | None = None, client: User | None = None, price_cents: int = 4550, **kwargs):
    """A priced consultation its client paid through PayPal (needs the `paypal_emulator` fixture): claimed,
    the order approved on the emulator's page over HTTP, captured on return, the room open."""
    from urllib.parse import parse_qs, urlsplit

    import requests

    from sessions_app.services import consultation_claim, payment_capture, payment_start

    consultation = make_consultation(sme=sme or make_sme(), price_cents=price_cents, **kwargs)
    consultation_claim(consultation=consultation, client=client or make_client())
    payment = payment_start(consultation=consultation, client=consultation.client, base_url="http://testserver/")
    token = parse_qs(urlsplit(payment.approve_url).query)["token"][0]
    approved = requests.post(
        payment.approve_url.split("?")[0],
        data={"token": token, "email": "buyer@example.com", "action": "approve"},
        allow_redirects=False,
        timeout=5,
    )
    assert approved.status_code == 302
    outcome = payment_capture(consultation=consultation, order_id=payment.order_id, client=consultation.client)
    assert outcome.code == "paid", outcome.message
    consultation.refresh_from_db()
    return consultation
