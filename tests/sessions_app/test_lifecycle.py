"""The consultation lifecycle services: each transition, each refusal, double submits."""

import pytest

from accounts.models import AuditEvent
from sessions_app.models import Consultation
from sessions_app.services import (
    ConsultationError,
    consultation_cancel,
    consultation_claim,
    consultation_complete,
    consultation_extension_answer,
    consultation_extension_propose,
    consultation_go_live,
    room_member_connect,
    room_member_left,
)
from tests.factories import make_client, make_consultation, make_ready_consultation, make_sme

pytestmark = pytest.mark.django_db
State = Consultation.State


def test_free_consultation_is_ready_as_soon_as_it_is_claimed():
    consultation = make_consultation(price_cents=0)
    client = make_client()
    consultation_claim(consultation=consultation, client=client)
    consultation.refresh_from_db()
    assert consultation.state == State.READY and consultation.client == client
    assert len(consultation.token) >= 22  # 128 bits or more, URL-safe


def test_priced_consultation_waits_for_payment_after_the_claim():
    consultation = make_consultation(price_cents=5000)
    consultation_claim(consultation=consultation, client=make_client())
    assert Consultation.objects.get(pk=consultation.pk).state == State.CLAIMED


def test_second_client_is_refused_and_the_first_keeps_it():
    consultation = make_consultation()
    first, second = make_client(), make_client()
    consultation_claim(consultation=consultation, client=first)
    stale = Consultation.objects.get(pk=consultation.pk)
    stale.client, stale.state = None, State.CREATED  # a second tab that loaded the page before the claim
    with pytest.raises(ConsultationError, match="belongs to someone else"):
        consultation_claim(consultation=stale, client=second)
    assert Consultation.objects.get(pk=consultation.pk).client == first


def test_claiming_twice_is_harmless():
    consultation = make_consultation(price_cents=100)
    client = make_client()
    consultation_claim(consultation=consultation, client=client)
    consultation_claim(consultation=Consultation.objects.get(pk=consultation.pk), client=client)
    assert AuditEvent.objects.filter(event="consultation.claimed").count() == 1


def test_sme_cannot_claim_their_own_consultation():
    sme = make_sme()
    consultation = make_consultation(sme=sme)
    with pytest.raises(ConsultationError, match="your own consultation"):
        consultation_claim(consultation=consultation, client=sme)


def test_disqualified_sme_cannot_create():
    sme = make_sme()
    sme.sme_profile.disqualified_at = sme.date_joined
    sme.sme_profile.save()
    with pytest.raises(ConsultationError, match="disqualified"):
        make_consultation(sme=sme)


def test_go_live_once_then_complete_by_the_sme_only():
    consultation = make_ready_consultation()
    assert consultation_go_live(consultation=consultation) is True
    assert consultation_go_live(consultation=consultation) is False
    with pytest.raises(ConsultationError):
        consultation_complete(consultation=consultation, actor=consultation.client)
    assert consultation_complete(consultation=consultation, actor=consultation.sme) is True
    assert Consultation.objects.get(pk=consultation.pk).state == State.COMPLETED


def test_client_cannot_cancel_once_ready_but_the_sme_can():
    consultation = make_ready_consultation()
    with pytest.raises(ConsultationError, match="ask the expert"):
        consultation_cancel(consultation=consultation, actor=consultation.client)
    assert consultation_cancel(consultation=consultation, actor=consultation.sme, reason="Ill") is True
    assert consultation_cancel(consultation=consultation, actor=consultation.sme) is False  # double click


def test_extension_accepted_adds_to_the_agreed_time():
    consultation = make_ready_consultation(minutes=30)
    consultation_extension_propose(consultation=consultation, sme=consultation.sme, minutes=15)
    with pytest.raises(ConsultationError, match="previous proposal"):
        consultation_extension_propose(consultation=consultation, sme=consultation.sme, minutes=10)
    consultation_extension_answer(consultation=consultation, client=consultation.client, accept=True)
    assert Consultation.objects.get(pk=consultation.pk).total_minutes == 45


def test_presence_replaces_a_second_tab_and_knows_the_peer():
    consultation = make_ready_consultation()
    first = room_member_connect(consultation=consultation, user=consultation.sme, channel_name="a")
    assert first.role == "sme" and first.replaced_channel == "" and first.peer_channel == ""
    client_join = room_member_connect(consultation=consultation, user=consultation.client, channel_name="c")
    assert client_join.peer_channel == "a"
    second = room_member_connect(consultation=consultation, user=consultation.sme, channel_name="b")
    assert second.replaced_channel == "a"
    # The replaced tab closing does not remove the tab that took over.
    assert room_member_left(consultation_id=consultation.pk, role="sme", channel_name="a") is False
    assert Consultation.objects.get(pk=consultation.pk).sme_channel == "b"
    room_member_left(consultation_id=consultation.pk, role="client", channel_name="c")
    assert room_member_left(consultation_id=consultation.pk, role="sme", channel_name="b") is True
