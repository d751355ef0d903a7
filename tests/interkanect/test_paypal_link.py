"""One PayPal account, one open SME account: a disqualified SME cannot be paid through a new account,
while closing an account frees its PayPal account for a new one (the FAQ's way to a new username)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, SMEProfile
from accounts.services import user_close
from payouts import services
from payouts.paypal.emulator import payer_id_for
from sessions_app.models import FreeSessionReviewCase
from tests.factories import make_sme
from tests.payouts.test_connect_paypal import no_paypal_login, paypal_answers, start  # noqa: F401

pytestmark = pytest.mark.django_db
Case = FreeSessionReviewCase
TAKEN = "already linked to another open InterKanect SME account"


def connect(client, sme, email: str):
    """Connect PayPal through the whole flow (allauth and the emulator); returns the dashboard's text."""
    client.force_login(sme)
    done = client.get(paypal_answers(start(client), email=email))
    assert done["Location"] == "/dashboard/#paypal"
    return client.get("/dashboard/").content.decode()


def linked(sme) -> str:
    return SMEProfile.objects.get(user=sme).paypal_email


def disqualify(sme) -> None:
    SMEProfile.objects.filter(user=sme).update(disqualified_at=timezone.now(), disqualification_reason="free")


def shared_paypal_cases(sme):
    return list(Case.objects.filter(sme=sme, kind=Case.Kind.SHARED_PAYPAL))


def test_connect_paypal_refuses_an_account_linked_to_another_open_sme(client, paypal_emulator):
    first, second = make_sme(), make_sme()
    connect(client, first, "shared@example.com")
    dashboard = connect(client, second, "Shared@Example.com")
    assert TAKEN in dashboard
    assert (linked(first), linked(second)) == ("shared@example.com", "")
    assert shared_paypal_cases(second) == []  # nobody disqualified: refused, nothing to review


def test_the_typed_address_is_refused_too_with_a_clear_error(client, no_paypal_login):  # noqa: F811
    first, second = make_sme(), make_sme()
    services.sme_paypal_enter_email(profile=first.sme_profile, email="typed@example.com", actor=first)
    client.force_login(second)
    page = client.post(reverse("paypal_email"), {"email": "TYPED@example.com", "email_again": "typed@example.com"})
    assert page.status_code == 200 and TAKEN in page.content.decode()
    assert linked(second) == ""


def test_the_same_payer_id_under_another_address_is_the_same_paypal_account():
    first, second = make_sme(), make_sme()
    services.sme_paypal_connect(profile=first.sme_profile, email="a@example.com", payer_id="PAYER1", actor=first)
    with pytest.raises(services.PayPalAccountTaken):
        services.sme_paypal_connect(profile=second.sme_profile, email="b@example.com", payer_id="PAYER1", actor=second)
    assert linked(second) == ""


def test_the_database_refuses_a_second_open_account_on_one_paypal_account():
    first, second = make_sme(), make_sme()
    services.sme_paypal_connect(profile=first.sme_profile, email="a@example.com", payer_id="PAYER1", actor=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        SMEProfile.objects.filter(user=second).update(paypal_email="A@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        SMEProfile.objects.filter(user=second).update(
            paypal_email="b@example.com", paypal_payer_id="PAYER1", paypal_verified=True
        )


def test_closing_the_old_account_frees_its_paypal_account_for_a_new_one(client, paypal_emulator):
    old, new = make_sme(), make_sme()
    connect(client, old, "me@example.com")
    user_close(user=old, actor=old)
    connect(client, new, "me@example.com")
    assert linked(new) == "me@example.com"
    # The closed account keeps its link: its remaining balance is still paid out there.
    assert linked(old) == "me@example.com"
    assert SMEProfile.objects.get(user=new).paypal_payer_id == payer_id_for("me@example.com")


def test_linking_the_paypal_account_of_a_disqualified_open_sme_is_refused_and_opens_a_case(client, paypal_emulator):
    banned, newcomer = make_sme(), make_sme()
    connect(client, banned, "banned@example.com")
    disqualify(banned)
    assert TAKEN in connect(client, newcomer, "banned@example.com")
    assert linked(newcomer) == ""
    [case] = shared_paypal_cases(newcomer)
    assert (case.status, case.paypal_holder_id) == (Case.Status.OPEN, banned.pk)
    assert AuditEvent.objects.filter(event="paypal.shared_with_disqualified", subject=newcomer).exists()


def test_linking_the_paypal_account_of_a_disqualified_closed_sme_opens_one_case(client, paypal_emulator):
    banned, newcomer = make_sme(), make_sme()
    connect(client, banned, "banned@example.com")
    disqualify(banned)
    user_close(user=banned, actor=banned)
    connect(client, newcomer, "banned@example.com")
    assert linked(newcomer) == "banned@example.com"  # allowed (the account is closed), but staff look at it
    connect(client, newcomer, "banned@example.com")
    [case] = shared_paypal_cases(newcomer)
    assert case.paypal_holder_id == banned.pk and "disqualified" in case.crossed
    with pytest.raises(IntegrityError), transaction.atomic():  # what opened the case stays as it was
        Case.objects.filter(pk=case.pk).update(paypal_holder=newcomer)
    # It is a case for staff beside the free-session ones, not a free-session warning to the SME.
    assert "under review" not in client.get("/dashboard/").content.decode().lower()


def test_a_verified_owner_takes_over_an_address_someone_typed_first(client, paypal_emulator):
    squatter, owner = make_sme(), make_sme()
    services.sme_paypal_enter_email(profile=squatter.sme_profile, email="owner@example.com", actor=squatter)
    connect(client, owner, "owner@example.com")
    assert (linked(owner), linked(squatter)) == ("owner@example.com", "")
    assert AuditEvent.objects.filter(event="paypal.unlinked_by_verified_owner", subject=squatter).exists()


def test_relinking_ones_own_paypal_account_is_not_a_conflict():
    sme = make_sme()
    services.sme_paypal_connect(profile=sme.sme_profile, email="a@example.com", payer_id="PAYER1", actor=sme)
    services.sme_paypal_connect(profile=sme.sme_profile, email="a@example.com", payer_id="PAYER1", actor=sme)
    assert linked(sme) == "a@example.com"
