"""Consultation services beyond the basic lifecycle: validation, refusals, e-mails, housekeeping, closing an SME."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditEvent
from interkanect.services import account_close
from sessions_app.models import Consultation
from sessions_app.services import (
    ConsultationError,
    consultation_cancel,
    consultation_claim,
    consultation_complete,
    consultation_go_live,
    consultation_mark_ready,
    consultations_complete_due,
    consultations_expire_due,
    consultations_remind_due,
    room_member_connect,
    room_members_seen,
)
from tests.factories import make_client, make_consultation, make_ready_consultation, make_sme

pytestmark = pytest.mark.django_db
State = Consultation.State


def soon(minutes: int = 10):
    return timezone.now() + timedelta(minutes=minutes)


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


# --- Creating ---


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"title": "Tax\nreview"}, "title"),  # a forged POST: e-mail subjects refuse line breaks
        ({"title": "Tax\rreview"}, "title"),
        ({"minutes": 0}, "agreed_minutes"),
        ({"minutes": 8 * 60 + 1}, "agreed_minutes"),
        ({"price_cents": -1}, "price_cents"),
        ({"price_cents": 45.5}, "price_cents"),  # float money is refused, never rounded
        ({"price_cents": 100_000_01}, "price_cents"),
        ({"scheduled_start": timezone.now() - timedelta(minutes=1)}, "scheduled_start"),
        ({"scheduled_start": timezone.now() + timedelta(days=800)}, "scheduled_start"),  # a mistyped year
        ({"scheduled_start": timezone.now() + timedelta(days=1), "scheduled_tz": "Mars/Olympus"}, "scheduled_start"),
    ],
)
def test_create_refuses_bad_input_with_a_message_per_field(changes, field):
    sme = make_sme()
    with pytest.raises(ValidationError) as caught:
        make_consultation(sme=sme, **changes)
    assert field in caught.value.message_dict
    assert not Consultation.objects.filter(sme=sme).exists()


def test_create_keeps_exact_cents_currency_and_the_smes_time_zone_and_audits_it():
    start = timezone.now() + timedelta(days=2)
    consultation = make_consultation(price_cents=4550, scheduled_start=start, scheduled_tz="Europe/Paris")
    consultation.refresh_from_db()
    assert (consultation.price_cents, consultation.currency, consultation.state) == (4550, "USD", State.CREATED)
    assert consultation.scheduled_start == start and consultation.scheduled_tz == "Europe/Paris"
    event = AuditEvent.objects.get(event="consultation.created", target_id=str(consultation.pk))
    assert event.actor == consultation.sme and event.data["price_cents"] == 4550


def test_the_same_form_submitted_twice_creates_one_consultation():
    sme = make_sme()
    first = make_consultation(sme=sme, creation_key="form-1")
    second = make_consultation(sme=sme, creation_key="form-1")
    other = make_consultation(sme=sme, creation_key="form-2")
    assert first.pk == second.pk != other.pk
    assert Consultation.objects.filter(sme=sme).count() == 2


def test_clients_and_closed_smes_cannot_create():
    with pytest.raises(ConsultationError, match="Only subject-matter expert"):
        make_consultation(sme=make_client())
    sme = make_sme()
    account_close(user=sme, actor=sme)
    sme.refresh_from_db()
    with pytest.raises(ConsultationError, match="closed"):
        make_consultation(sme=sme)


# --- Claiming ---


def test_an_sme_account_cannot_claim_someone_elses_consultation():
    consultation = make_consultation()
    with pytest.raises(ConsultationError, match="client account") as caught:
        consultation_claim(consultation=consultation, client=make_sme())
    assert caught.value.code == "not_client"
    assert Consultation.objects.get(pk=consultation.pk).state == State.CREATED


def test_a_cancelled_consultation_cannot_be_claimed():
    consultation = make_consultation()
    consultation_cancel(consultation=consultation, actor=consultation.sme)
    with pytest.raises(ConsultationError, match="cancelled") as caught:
        consultation_claim(consultation=consultation, client=make_client())
    assert caught.value.code == "closed"


def test_a_client_who_cancelled_cannot_reclaim_it_by_opening_the_link_again():
    consultation = make_consultation(price_cents=1000)
    client = make_client()
    consultation_claim(consultation=consultation, client=client)
    consultation_cancel(consultation=consultation, actor=client)
    with pytest.raises(ConsultationError, match="cancelled") as caught:
        consultation_claim(consultation=consultation, client=client)
    assert caught.value.code == "closed"
    assert Consultation.objects.get(pk=consultation.pk).state == State.CANCELLED


def test_a_consultation_of_a_disqualified_sme_cannot_be_claimed():
    consultation = make_consultation()
    profile = consultation.sme.sme_profile
    profile.disqualified_at = timezone.now()
    profile.save()
    with pytest.raises(ConsultationError, match="no longer host") as caught:
        consultation_claim(consultation=Consultation.objects.get(pk=consultation.pk), client=make_client())
    assert caught.value.code == "sme_not_allowed"


def test_claiming_a_free_one_emails_both_that_the_room_is_open(django_capture_on_commit_callbacks):
    consultation = make_consultation(price_cents=0, title="Free chat")
    client = make_client()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_claim(consultation=consultation, client=client)
    assert recipients() == sorted([consultation.sme.email, client.email])
    assert all("Free chat: the room is open" in m.subject for m in mail.outbox)
    assert all(f"/rooms/{consultation.token}/" in m.body for m in mail.outbox)
    assert AuditEvent.objects.filter(event="consultation.ready", target_id=str(consultation.pk)).count() == 1


def test_claiming_a_priced_one_emails_both_that_it_waits_for_payment(django_capture_on_commit_callbacks):
    consultation = make_consultation(price_cents=4550, title="Tax review")
    client = make_client()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_claim(consultation=consultation, client=client)
    assert recipients() == sorted([consultation.sme.email, client.email])
    assert all("Tax review: claimed, waiting for payment" in m.subject for m in mail.outbox)
    to_client = next(m for m in mail.outbox if m.to == [client.email])
    assert "$45.50" in to_client.body and "pay $45.50 through PayPal" in to_client.body
    assert Consultation.objects.get(pk=consultation.pk).state == State.CLAIMED


def test_no_email_leaves_when_the_claim_is_rolled_back(django_capture_on_commit_callbacks):
    consultation = make_consultation(price_cents=0)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                consultation_claim(consultation=consultation, client=make_client())
                raise RuntimeError("something after the claim failed")
    assert mail.outbox == []
    assert Consultation.objects.get(pk=consultation.pk).state == State.CREATED


def test_email_of_a_scheduled_consultation_carries_the_calendar_file(django_capture_on_commit_callbacks):
    start = timezone.now() + timedelta(days=3)
    consultation = make_consultation(scheduled_start=start, scheduled_tz="America/New_York")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_claim(consultation=consultation, client=make_client())
    name, content, mimetype = mail.outbox[0].attachments[0]
    day = start.astimezone(ZoneInfo("America/New_York")).date()
    assert (name, mimetype) == (f"interkanect-consultation-{day:%Y-%m-%d}-quick-question.ics", "text/calendar")
    assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}" in content
    assert "America/New_York" in mail.outbox[0].body


# --- Payment done (checkout calls this) ---


def test_a_paid_consultation_becomes_ready_once_and_both_hear_of_it(django_capture_on_commit_callbacks):
    consultation = make_consultation(price_cents=2000)
    consultation_claim(consultation=consultation, client=make_client())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert consultation_mark_ready(consultation=consultation) is True
        assert consultation_mark_ready(consultation=consultation) is False
    assert len(mail.outbox) == 2 and all("the room is open" in m.subject for m in mail.outbox)
    assert Consultation.objects.get(pk=consultation.pk).state == State.READY


def test_an_unclaimed_consultation_cannot_become_ready():
    consultation = make_consultation(price_cents=2000)
    assert consultation_mark_ready(consultation=consultation) is False
    assert Consultation.objects.get(pk=consultation.pk).state == State.CREATED


# --- Cancelling ---


def test_client_cancels_before_paying_and_both_are_told(django_capture_on_commit_callbacks):
    consultation = make_consultation(price_cents=2000)
    client = make_client()
    consultation_claim(consultation=consultation, client=client)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert consultation_cancel(consultation=consultation, actor=client, reason="  Found the answer  ") is True
    stored = Consultation.objects.get(pk=consultation.pk)
    assert (stored.state, stored.ended_by, stored.end_reason) == (State.CANCELLED, client, "Found the answer")
    assert recipients() == sorted([consultation.sme.email, client.email])
    assert all("Found the answer" in m.body for m in mail.outbox)


def test_an_unclaimed_cancellation_is_confirmed_to_the_sme_only(django_capture_on_commit_callbacks):
    consultation = make_consultation()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    assert recipients() == [consultation.sme.email]


def test_a_stranger_cannot_cancel():
    consultation = make_ready_consultation()
    with pytest.raises(ConsultationError, match="Only its expert or its client"):
        consultation_cancel(consultation=consultation, actor=make_client())
    assert Consultation.objects.get(pk=consultation.pk).state == State.READY


def test_nobody_cancels_once_live_or_completed():
    consultation = make_ready_consultation()
    consultation_go_live(consultation=consultation)
    with pytest.raises(ConsultationError, match="already live") as caught:
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    assert caught.value.code == "too_late"
    consultation_complete(consultation=consultation, actor=consultation.sme)
    with pytest.raises(ConsultationError, match="nothing to cancel"):
        consultation_cancel(consultation=consultation, actor=consultation.sme)
    assert Consultation.objects.get(pk=consultation.pk).state == State.COMPLETED


# --- Housekeeping ---


def test_expiry_spares_what_is_scheduled_later_and_what_is_live(settings):
    settings.CONSULTATION_EXPIRE_DAYS = 30
    stale = make_consultation()
    later = make_consultation(scheduled_start=timezone.now() + timedelta(days=40))
    live = make_ready_consultation()
    consultation_go_live(consultation=live)
    Consultation.objects.update(created_at=timezone.now() - timedelta(days=31))
    assert consultations_expire_due() == 1
    assert Consultation.objects.get(pk=stale.pk).state == State.EXPIRED
    assert Consultation.objects.get(pk=later.pk).state == State.CREATED
    assert Consultation.objects.get(pk=live.pk).state == State.LIVE
    # The scheduled one expires once its start is long past.
    assert consultations_expire_due(now=timezone.now() + timedelta(days=71)) == 1
    assert Consultation.objects.get(pk=later.pk).state == State.EXPIRED


def test_a_live_consultation_completes_by_itself_only_once_the_room_is_empty_after_the_end(settings):
    settings.CONSULTATION_AUTOCOMPLETE_GRACE_MINUTES = 30
    consultation = make_ready_consultation(minutes=30)
    consultation_go_live(consultation=consultation)
    room_member_connect(consultation=consultation, user=consultation.sme, channel_name="sme-tab")
    later = timezone.now() + timedelta(hours=2)
    assert consultations_complete_due(now=later) == 0  # the SME is still in the room
    Consultation.objects.filter(pk=consultation.pk).update(sme_channel="", last_left_at=timezone.now())
    assert consultations_complete_due(now=timezone.now() + timedelta(minutes=45)) == 0  # agreed end + grace not yet
    assert consultations_complete_due(now=later) == 1
    stored = Consultation.objects.get(pk=consultation.pk)
    assert stored.state == State.COMPLETED and stored.ended_by is None


def test_a_member_left_behind_by_a_dead_server_process_does_not_block_completion(settings):
    """kill -9 of a server process leaves its channel name in the room; once its presence is no longer
    refreshed, housekeeping completes the consultation anyway."""
    settings.CONSULTATION_AUTOCOMPLETE_GRACE_MINUTES = 30
    settings.SIGNALING_PRESENCE_STALE_SECONDS = 180
    consultation = make_ready_consultation(minutes=30)
    consultation_go_live(consultation=consultation)
    room_member_connect(consultation=consultation, user=consultation.sme, channel_name="specific.dead!sme")
    room_member_connect(consultation=consultation, user=consultation.client, channel_name="specific.live!client")
    later = timezone.now() + timedelta(hours=2)
    Consultation.objects.filter(pk=consultation.pk).update(sme_seen_at=timezone.now() - timedelta(minutes=4))
    assert consultations_complete_due(now=later) == 0  # the client is still there (refreshed just now)
    Consultation.objects.filter(pk=consultation.pk).update(client_channel="", last_left_at=timezone.now())
    assert consultations_complete_due(now=later) == 1
    assert Consultation.objects.get(pk=consultation.pk).state == State.COMPLETED


def test_joining_ignores_a_peer_whose_presence_went_stale(settings):
    settings.SIGNALING_PRESENCE_STALE_SECONDS = 180
    consultation = make_ready_consultation()
    room_member_connect(consultation=consultation, user=consultation.client, channel_name="specific.dead!client")
    assert room_member_connect(consultation=consultation, user=consultation.sme, channel_name="a").peer_channel
    Consultation.objects.filter(pk=consultation.pk).update(client_seen_at=timezone.now() - timedelta(minutes=4))
    join = room_member_connect(consultation=consultation, user=consultation.sme, channel_name="b")
    assert join.peer_channel == ""
    assert Consultation.objects.get(pk=consultation.pk).client_channel == ""
    # A live connection keeps its presence fresh; a replaced or forgotten one learns it is no longer there.
    Consultation.objects.filter(pk=consultation.pk).update(sme_seen_at=timezone.now() - timedelta(minutes=4))
    assert room_members_seen(channel_names=["a", "b"]) == {"b"}
    assert Consultation.objects.get(pk=consultation.pk).sme_seen_at > timezone.now() - timedelta(minutes=1)


def test_a_member_who_rejoined_after_housekeeping_looked_is_not_cut_off(settings):
    settings.CONSULTATION_AUTOCOMPLETE_GRACE_MINUTES = 30
    consultation = make_ready_consultation(minutes=30)
    consultation_go_live(consultation=consultation)
    Consultation.objects.filter(pk=consultation.pk).update(live_at=timezone.now() - timedelta(hours=2))
    seen_empty = Consultation.objects.get(pk=consultation.pk)  # what the housekeeping read: an empty room
    room_member_connect(consultation=consultation, user=consultation.client, channel_name="client-back")
    assert consultation_complete(consultation=seen_empty, actor=None, only_if_room_empty=True) is False
    assert Consultation.objects.get(pk=consultation.pk).state == State.LIVE


def test_about_to_start_email_goes_to_both_once(settings, django_capture_on_commit_callbacks):
    settings.CONSULTATION_REMINDER_MINUTES = 15
    due = make_ready_consultation(scheduled_start=soon(30), title="Due soon")
    not_yet = make_ready_consultation(scheduled_start=soon(60))
    unclaimed = make_consultation(scheduled_start=soon(30))
    mail.outbox.clear()
    in_20_minutes = timezone.now() + timedelta(minutes=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert consultations_remind_due(now=in_20_minutes) == 1
        assert consultations_remind_due(now=in_20_minutes + timedelta(minutes=5)) == 0
    assert recipients() == sorted([due.sme.email, due.client.email])
    # The run 20 minutes from now is 10 minutes before its start: the e-mail says 10, not the 15 of the setting.
    assert all(m.subject == "[InterKanect] Due soon: starts in 10 minutes" for m in mail.outbox)
    assert all("starts in 10 minutes." in m.body for m in mail.outbox)
    assert Consultation.objects.get(pk=due.pk).reminder_sent_at == in_20_minutes
    assert Consultation.objects.get(pk=not_yet.pk).reminder_sent_at is None
    assert Consultation.objects.get(pk=unclaimed.pk).reminder_sent_at is None


def test_housekeeping_command_sends_reminders(settings, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    settings.CONSULTATION_REMINDER_MINUTES = 15
    make_ready_consultation(scheduled_start=soon(10))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("consultations_housekeeping", stdout=open("/dev/null", "w"))
        call_command("consultations_housekeeping", stdout=open("/dev/null", "w"))
    assert len(mail.outbox) == 2  # one run sent both e-mails, the second sent nothing


# --- Closing an SME account ---


def test_closing_an_sme_account_cancels_its_consultations_never_held(django_capture_on_commit_callbacks):
    sme = make_sme()
    waiting = make_consultation(sme=sme)
    booked = make_ready_consultation(sme=sme)
    live = make_ready_consultation(sme=sme)
    consultation_go_live(consultation=live)
    other = make_consultation()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        account_close(user=sme, actor=sme)
    states = dict(Consultation.objects.values_list("pk", "state"))
    assert states[waiting.pk] == states[booked.pk] == State.CANCELLED
    assert states[live.pk] == State.LIVE and states[other.pk] == State.CREATED
    assert Consultation.objects.get(pk=booked.pk).end_reason == "The expert closed their account."
    assert recipients() == [booked.client.email]  # the SME's address is freed on closing


def test_closing_a_client_account_leaves_consultations_alone():
    consultation = make_ready_consultation()
    account_close(user=consultation.client, actor=consultation.client)
    assert Consultation.objects.get(pk=consultation.pk).state == State.READY
