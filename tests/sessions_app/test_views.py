"""Consultation pages: create form, join link for each kind of visitor, claim, cancel, calendar, dashboards."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import Consultation
from sessions_app.services import consultation_claim, consultation_go_live
from tests.factories import make_client, make_consultation, make_ready_consultation, make_sme

pytestmark = pytest.mark.django_db
State = Consultation.State


def join(consultation) -> str:
    return reverse("consultation_join", args=[consultation.token])


def create_form(**overrides):
    data = {"title": "Tax return review", "agreed_minutes": "45", "price": "45.50", "scheduled_start": "", "tz": ""}
    data.update(overrides)
    return data


# --- Creating ---


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("45", 4500), ("45.5", 4550), ("45.50", 4550), ("$1,045.05", 104505), ("0", 0), ("0.10", 10), (" 19.99 ", 1999)],
)
def test_price_typed_in_dollars_is_stored_as_exact_cents(client, typed, cents):
    sme = make_sme()
    client.force_login(sme)
    response = client.post(reverse("consultation_new"), create_form(price=typed))
    consultation = Consultation.objects.get(sme=sme)
    assert response.status_code == 302 and response["Location"] == join(consultation)
    assert consultation.price_cents == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("45.505", "at most two decimals"),
        ("-5", "for example 45 or 45.50"),
        ("abc", "for example 45 or 45.50"),
        ("NaN", "for example 45 or 45.50"),
        ("1e3", "for example 45 or 45.50"),
        ("45,50", "Use a dot for cents"),
        ("", "or 0 for a free session"),
        ("100000.01", "The price is between 0 and 100,000"),
    ],
)
def test_bad_price_is_refused_next_to_the_field_and_the_form_keeps_the_rest(client, typed, message):
    sme = make_sme()
    client.force_login(sme)
    response = client.post(reverse("consultation_new"), create_form(price=typed, title="Keep me"))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["price"])
    assert b'value="Keep me"' in response.content
    assert not Consultation.objects.filter(sme=sme).exists()


def test_create_form_says_free_is_allowed_but_charging_is_encouraged(client):
    client.force_login(make_sme())
    page = client.get(reverse("consultation_new")).content.decode()
    assert "Enter 0 for a free session" in page and "encouraged" in page
    assert 'type="datetime-local"' in page and "js/timezone-field.js" in page


def test_start_is_read_in_the_smes_time_zone(client):
    sme = make_sme()
    client.force_login(sme)
    year = timezone.now().year + 1
    client.post(reverse("consultation_new"), create_form(scheduled_start=f"{year}-01-15T09:30", tz="America/New_York"))
    consultation = Consultation.objects.get(sme=sme)
    assert consultation.scheduled_start == datetime(year, 1, 15, 14, 30, tzinfo=UTC)  # EST is UTC-5
    assert consultation.scheduled_tz == "America/New_York"


def test_start_without_a_time_zone_from_the_browser_is_read_as_utc(client):
    sme = make_sme()
    client.force_login(sme)
    year = timezone.now().year + 1
    client.post(reverse("consultation_new"), create_form(scheduled_start=f"{year}-01-15T09:30", tz="Not/AZone"))
    assert Consultation.objects.get(sme=sme).scheduled_start == datetime(year, 1, 15, 9, 30, tzinfo=UTC)


def test_a_time_skipped_by_the_clock_change_is_refused(client):
    sme = make_sme()
    client.force_login(sme)
    year = timezone.now().year + 1
    # Europe/Paris springs forward on the last Sunday of March: 02:30 does not exist that night.
    last_sunday = max(d for d in range(25, 32) if datetime(year, 3, d).weekday() == 6)
    response = client.post(
        reverse("consultation_new"), create_form(scheduled_start=f"{year}-03-{last_sunday}T02:30", tz="Europe/Paris")
    )
    assert "does not exist" in " ".join(response.context["form"].errors["scheduled_start"])
    assert not Consultation.objects.filter(sme=sme).exists()


def test_a_start_in_the_past_is_refused(client):
    sme = make_sme()
    client.force_login(sme)
    response = client.post(reverse("consultation_new"), create_form(scheduled_start="2020-01-01T10:00", tz="UTC"))
    assert "That time has passed" in " ".join(response.context["form"].errors["scheduled_start"])


@pytest.mark.parametrize(
    ("typed", "zone", "message"),
    [
        ("9999-12-31T23:59", "America/New_York", "within the next two years"),  # past the largest datetime in UTC
        ("0001-01-01T00:30", "Asia/Tokyo", "That time has passed"),  # before the smallest one
        ("9999-12-31T23:59", "UTC", "within the next two years"),  # its end would be past the largest one
        ("2062-05-01T10:00", "Europe/Paris", "within the next two years"),  # a typo for 2026
    ],
)
def test_a_start_years_away_is_refused_next_to_the_field(client, typed, zone, message):
    sme = make_sme()
    client.force_login(sme)
    response = client.post(reverse("consultation_new"), create_form(scheduled_start=typed, tz=zone))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["scheduled_start"])
    assert not Consultation.objects.filter(sme=sme).exists()


def test_a_past_start_is_reported_together_with_the_other_fields_errors(client):
    client.force_login(make_sme())
    response = client.post(
        reverse("consultation_new"), create_form(title="", scheduled_start="2020-01-01T10:00", tz="UTC")
    )
    errors = response.context["form"].errors
    assert "title" in errors
    assert "That time has passed" in " ".join(errors["scheduled_start"])


def test_double_submit_of_the_create_form_creates_one_consultation(client):
    sme = make_sme()
    client.force_login(sme)
    data = create_form(creation_key="abc123")
    first = client.post(reverse("consultation_new"), data)
    second = client.post(reverse("consultation_new"), data)
    assert first["Location"] == second["Location"]
    assert Consultation.objects.filter(sme=sme).count() == 1


def test_clients_and_disqualified_smes_get_the_reason_instead_of_the_form(client):
    client.force_login(make_client())
    response = client.get(reverse("consultation_new"))
    assert response.status_code == 403 and b"Only subject-matter expert" in response.content
    sme = make_sme()
    sme.sme_profile.disqualified_at = timezone.now()
    sme.sme_profile.disqualification_reason = "too many free sessions"
    sme.sme_profile.save()
    client.force_login(sme)
    response = client.post(reverse("consultation_new"), create_form())
    assert response.status_code == 403 and b"too many free sessions" in response.content
    assert not Consultation.objects.exists()


def test_create_page_needs_a_login(client):
    response = client.get(reverse("consultation_new"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


# --- The join link ---


def test_a_forged_token_gets_a_404_that_says_what_to_do(client):
    make_consultation()
    response = client.get("/c/not-a-real-token-at-all/")
    assert response.status_code == 404
    assert b"copy the whole link" in response.content and b"ask the expert to send it again" in response.content


@pytest.mark.parametrize("forged", ["ab%00cd", "a%20b", "%C3%A9t%C3%A9", "x" * 65])
def test_a_token_with_characters_no_link_has_gets_the_same_404(client, forged):
    # A NUL byte was a server error on PostgreSQL ("text fields cannot contain NUL").
    client.force_login(make_client())
    for path in (f"/c/{forged}/", f"/c/{forged}/consultation.ics", f"/rooms/{forged}/"):
        response = client.get(path)
        assert response.status_code == 404, path
    response = client.post(f"/c/{forged}/claim/")
    assert response.status_code == 404 and b"copy the whole link" in response.content


def test_anonymous_visitor_is_offered_client_sign_up_and_log_in_that_come_back(client):
    consultation = make_consultation(title="Garden planning")
    response = client.get(join(consultation))
    assert response.status_code == 200 and b"Garden planning" in response.content
    signup = urlsplit(response.context["signup_url"])
    assert signup.path == reverse("account_signup")
    assert parse_qs(signup.query) == {"role": ["client"], "next": [join(consultation)]}
    login = urlsplit(response.context["login_url"])
    assert login.path == reverse("account_login") and parse_qs(login.query) == {"next": [join(consultation)]}
    # The sign-up page pre-selects the client role.
    signup_page = client.get(response.context["signup_url"]).content.decode()
    assert 'value="client" id="id_role_1" required checked' in signup_page
    assert 'name="next" value="/c/' in signup_page


def test_logging_in_from_the_join_page_comes_back_to_it(client):
    consultation = make_consultation()
    visitor = make_client()
    response = client.post(
        f"{reverse('account_login')}?next={join(consultation)}",
        {"login": visitor.username, "password": "a-Strong-pass-42", "next": join(consultation)},
    )
    assert response.status_code == 302 and response["Location"] == join(consultation)


def test_opening_the_link_does_not_claim_it_only_the_button_does(client):
    consultation = make_consultation()
    visitor = make_client()
    client.force_login(visitor)
    page = client.get(join(consultation))
    assert b"Claim this consultation" in page.content
    assert Consultation.objects.get(pk=consultation.pk).state == State.CREATED
    opened = client.get(reverse("consultation_claim", args=[consultation.token]))
    assert opened.status_code == 302 and opened["Location"] == join(consultation)
    assert Consultation.objects.get(pk=consultation.pk).state == State.CREATED
    response = client.post(reverse("consultation_claim", args=[consultation.token]))
    assert response.status_code == 302 and response["Location"] == join(consultation)
    stored = Consultation.objects.get(pk=consultation.pk)
    assert stored.client == visitor and stored.state == State.READY
    page = client.get(join(consultation))
    assert reverse("room", args=[consultation.token]).encode() in page.content


def test_claiming_after_being_logged_out_in_another_tab_leads_back_to_the_claim_button(client):
    consultation = make_consultation()
    visitor = make_client()
    # The join page was open in one tab; the visitor logged out in another, then pressed "Claim".
    response = client.post(reverse("consultation_claim", args=[consultation.token]))
    login_url = response["Location"]
    assert login_url.startswith(reverse("account_login"))
    back = parse_qs(urlsplit(login_url).query)["next"][0]
    client.force_login(visitor)
    response = client.get(back, follow=True)  # where logging in sends them back to
    assert response.status_code == 200 and b"Claim this consultation" in response.content
    assert Consultation.objects.get(pk=consultation.pk).state == State.CREATED


def test_double_submitted_claim_is_harmless(client):
    consultation = make_consultation()
    client.force_login(make_client())
    url = reverse("consultation_claim", args=[consultation.token])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    assert Consultation.objects.get(pk=consultation.pk).state == State.READY


def test_a_priced_consultation_says_it_waits_for_payment_without_faking_one(client):
    consultation = make_consultation(price_cents=4500)
    visitor = make_client()
    client.force_login(visitor)
    assert b"Nothing is charged until you approve the payment at PayPal" in client.get(join(consultation)).content
    client.post(reverse("consultation_claim", args=[consultation.token]))
    page = client.get(join(consultation)).content.decode()
    assert "Waiting for payment" in page and "Pay $45.00 with PayPal" in page and "Nothing has been charged" in page
    assert reverse("room", args=[consultation.token]) not in page
    assert Consultation.objects.get(pk=consultation.pk).state == State.CLAIMED


def test_a_second_client_is_told_it_belongs_to_someone_else(client):
    consultation = make_ready_consultation()
    client.force_login(make_client())
    response = client.get(join(consultation))
    assert response.status_code == 403 and b"belongs to someone else" in response.content
    # Also when they post the claim from a page loaded before the first claim.
    response = client.post(reverse("consultation_claim", args=[consultation.token]))
    assert response.status_code == 403 and b"belongs to someone else" in response.content


def test_a_stranger_opening_a_claimed_link_is_told_before_being_invited_to_sign_up(client):
    consultation = make_ready_consultation()
    page = client.get(join(consultation)).content.decode()
    assert "A client has already claimed this consultation" in page
    assert "Sign up as a client" not in page and "role=client" not in page
    assert reverse("account_login") in page  # the client it belongs to can still log in from here


def test_the_sme_sees_the_link_with_a_copy_button_and_cannot_claim(client):
    consultation = make_consultation()
    client.force_login(consultation.sme)
    page = client.get(join(consultation)).content.decode()
    assert f'value="http://testserver{join(consultation)}"' in page
    assert 'data-copy-target="join-link"' in page and "js/copy-link.js" in page
    assert "Claim this consultation" not in page
    response = client.post(reverse("consultation_claim", args=[consultation.token]), follow=True)
    assert b"your own consultation" in response.content
    assert Consultation.objects.get(pk=consultation.pk).state == State.CREATED


def test_another_sme_cannot_claim_and_is_told_to_use_a_client_account(client):
    consultation = make_consultation()
    client.force_login(make_sme())
    page = client.get(join(consultation)).content.decode()
    assert "Claim this consultation" not in page and "booked with a client account" in page


def test_a_cancelled_link_says_so_to_a_newcomer(client):
    consultation = make_consultation()
    consultation.state = State.CANCELLED
    consultation.save(update_fields=["state"])
    client.force_login(make_client())
    response = client.get(join(consultation))
    assert response.status_code == 410 and b"cancelled" in response.content


def test_scheduled_start_is_rendered_for_the_viewers_own_time_zone(client):
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    consultation = make_consultation(scheduled_start=start)
    page = client.get(join(consultation)).content.decode()
    assert f'<time datetime="{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" data-local-time>' in page
    assert "js/local-time.js" in page


# --- Cancelling ---


def test_sme_cancels_through_a_confirmation_page(client):
    consultation = make_ready_consultation()
    client.force_login(consultation.sme)
    url = reverse("consultation_cancel", args=[consultation.token])
    assert b"Cancel the consultation" in client.get(url).content
    assert Consultation.objects.get(pk=consultation.pk).state == State.READY  # GET changes nothing
    response = client.post(url, {"reason": "Ill today"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    stored = Consultation.objects.get(pk=consultation.pk)
    assert stored.state == State.CANCELLED and stored.end_reason == "Ill today"
    again = client.post(url, {"reason": ""}, follow=True)
    assert b"already cancelled" in again.content


def test_client_cannot_cancel_a_ready_one_and_is_told_why(client):
    consultation = make_ready_consultation()
    client.force_login(consultation.client)
    assert b"Cancel consultation" not in client.get(join(consultation)).content
    response = client.post(reverse("consultation_cancel", args=[consultation.token]), follow=True)
    assert b"ask the expert to cancel it" in response.content
    assert Consultation.objects.get(pk=consultation.pk).state == State.READY


def test_the_cancel_page_of_a_consultation_cancelled_in_another_tab_says_it_is_already_cancelled(client):
    consultation = make_consultation()
    client.force_login(consultation.sme)
    client.post(reverse("consultation_cancel", args=[consultation.token]))
    response = client.get(reverse("consultation_cancel", args=[consultation.token]), follow=True)
    assert b"This consultation is already cancelled." in response.content
    assert b"You can no longer cancel" not in response.content


def test_strangers_get_a_404_from_cancel_and_calendar(client):
    consultation = make_ready_consultation(scheduled_start=timezone.now() + timedelta(days=1))
    client.force_login(make_client())
    assert client.post(reverse("consultation_cancel", args=[consultation.token])).status_code == 404
    assert client.get(reverse("consultation_calendar", args=[consultation.token])).status_code == 404
    assert Consultation.objects.get(pk=consultation.pk).state == State.READY


# --- Calendar ---


def test_members_download_an_ics_at_the_agreed_time(client):
    start = datetime(timezone.now().year + 1, 6, 1, 14, 0, tzinfo=UTC)
    consultation = make_ready_consultation(scheduled_start=start, minutes=45, title="Budget; review, part 1")
    client.force_login(consultation.client)
    response = client.get(reverse("consultation_calendar", args=[consultation.token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert f"DTSTART:{start.year}0601T140000Z\r\n" in body and f"DTEND:{start.year}0601T144500Z\r\n" in body
    assert "SUMMARY:Budget\\; review\\, part 1\r\n" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_the_ics_says_tentative_until_a_client_claims_and_its_name_says_what_it_is(client):
    start = datetime(timezone.now().year + 1, 6, 1, 23, 30, tzinfo=UTC)
    consultation = make_consultation(scheduled_start=start, scheduled_tz="Asia/Tokyo", title="Tax return review")
    client.force_login(consultation.sme)
    response = client.get(reverse("consultation_calendar", args=[consultation.token]))
    body = response.content.decode()
    assert "STATUS:TENTATIVE\r\n" in body and "CONFIRMED" not in body
    # The SME's day (2 June in Tokyo), what it is and its title.
    expected = f"interkanect-consultation-{start.year}-06-02-tax-return-review.ics"
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    claimed = make_ready_consultation(scheduled_start=start)
    client.force_login(claimed.sme)
    assert "STATUS:CONFIRMED\r\n" in client.get(reverse("consultation_calendar", args=[claimed.token])).content.decode()


def test_the_ics_of_a_cancelled_consultation_removes_it_from_the_calendar(client):
    consultation = make_ready_consultation(scheduled_start=timezone.now() + timedelta(days=1))
    client.force_login(consultation.sme)
    client.post(reverse("consultation_cancel", args=[consultation.token]))
    body = client.get(reverse("consultation_calendar", args=[consultation.token])).content.decode()
    assert "STATUS:CANCELLED\r\n" in body and "STATUS:CONFIRMED" not in body


def test_no_calendar_without_a_scheduled_start(client):
    consultation = make_ready_consultation()
    client.force_login(consultation.sme)
    assert client.get(reverse("consultation_calendar", args=[consultation.token])).status_code == 404


# --- Dashboards ---


def test_sme_dashboard_lists_state_price_time_extensions_link_and_cancel(client):
    sme = make_sme()
    waiting = make_consultation(sme=sme, title="Waiting one", price_cents=2500)
    ready = make_ready_consultation(sme=sme, title="Ready one", minutes=30)
    Consultation.objects.filter(pk=ready.pk).update(extension_minutes=15)
    live = make_ready_consultation(sme=sme, title="Live one")
    consultation_go_live(consultation=live)
    make_consultation(title="Someone else's")
    client.force_login(sme)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Waiting one" in page and "Ready one" in page and "Live one" in page and "Someone else's" not in page
    assert "$25.00" in page and "Waiting for a client" in page and "30 min + 15 min extended" in page
    assert f'value="http://testserver{join(waiting)}"' in page
    assert reverse("room", args=[ready.token]) in page
    assert reverse("consultation_cancel", args=[waiting.token]) in page
    assert reverse("consultation_cancel", args=[ready.token]) in page
    assert reverse("consultation_cancel", args=[live.token]) not in page
    assert reverse("consultation_new") in page


def test_client_page_lists_their_consultations_with_cancel_only_before_ready(client):
    visitor = make_client()
    claimed = make_consultation(title="Priced one", price_cents=9900)
    consultation_claim(consultation=claimed, client=visitor)
    ready = make_ready_consultation(client=visitor, title="Free one")
    make_ready_consultation(title="Not mine")
    client.force_login(visitor)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Priced one" in page and "Free one" in page and "Not mine" not in page
    assert "$99.00" in page and "Free" in page
    assert reverse("consultation_cancel", args=[claimed.token]) in page
    assert reverse("consultation_cancel", args=[ready.token]) not in page
    assert reverse("room", args=[ready.token]) in page and reverse("room", args=[claimed.token]) not in page


def test_dashboard_queries_do_not_grow_with_the_number_of_consultations(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sme = make_sme()
    client.force_login(sme)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("dashboard"))
        return len(queries)

    make_ready_consultation(sme=sme)
    one = count()
    for _ in range(4):
        make_ready_consultation(sme=sme)
    assert count() == one


def test_closing_an_sme_account_from_its_page_warns_and_cancels_its_consultations(client):
    consultation = make_ready_consultation()
    sme = consultation.sme
    client.force_login(sme)
    assert b"have not started yet are cancelled" in client.get(reverse("account_close")).content
    client.post(reverse("account_close"), {"confirm_username": sme.username})
    assert Consultation.objects.get(pk=consultation.pk).state == State.CANCELLED


def test_emails_show_the_start_in_each_recipients_own_time_zone(client, django_capture_on_commit_callbacks):
    start = datetime(timezone.now().year + 1, 3, 10, 14, 0, tzinfo=UTC)  # 09:00 in New York, 23:00 in Tokyo
    consultation = make_consultation(scheduled_start=start, scheduled_tz="America/New_York")
    claimer = make_client()
    client.force_login(claimer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("consultation_claim", args=[consultation.token]), {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    claimer.refresh_from_db()
    assert claimer.time_zone == "Asia/Tokyo"
    to = {message.to[0]: message.body for message in mail.outbox}
    assert "23:00 (Asia/Tokyo, your time zone)" in to[claimer.email]
    assert "New_York" not in to[claimer.email]
    assert "09:00 (America/New_York, your time zone)" in to[consultation.sme.email]
    assert "14:00 UTC" in to[claimer.email] and "14:00 UTC" in to[consultation.sme.email]


def test_a_client_whose_zone_is_unknown_reads_utc_and_the_experts_zone(client, django_capture_on_commit_callbacks):
    start = datetime(timezone.now().year + 1, 3, 10, 14, 0, tzinfo=UTC)
    consultation = make_consultation(scheduled_start=start, scheduled_tz="America/New_York")
    claimer = make_client()
    client.force_login(claimer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("consultation_claim", args=[consultation.token]), {"time_zone": "Mars/Olympus_Mons"})
    claimer.refresh_from_db()
    assert claimer.time_zone == ""
    body = next(m.body for m in mail.outbox if m.to == [claimer.email])
    assert "14:00 UTC" in body and "09:00 (America/New_York, the expert's time zone)" in body
    assert "your time zone" not in body
