"""An SME creates a consultation and copies its link; a new client signs up through it, claims it and reaches
the room; anyone else is refused."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from sessions_app.models import Consultation
from tests.factories import PASSWORD, make_client, make_consultation, make_sme

pytestmark = pytest.mark.django_db(transaction=True)


def in_time_zone(page, zone: str) -> None:
    """Make this page's browser live in another time zone (Chromium DevTools protocol)."""
    page.context.new_cdp_session(page).send("Emulation.setTimezoneOverride", {"timezoneId": zone})


def test_sme_shares_a_link_a_new_client_signs_up_through_it_claims_it_and_a_third_is_refused(live_app, new_page):
    sme = make_sme(username="ada-sme", display_name="Ada Expert")
    year = datetime.now(UTC).year + 1

    # The SME, in New York, creates a free consultation starting at 09:30 their time.
    page = new_page(user=sme, permissions=["clipboard-read", "clipboard-write"])
    in_time_zone(page, "America/New_York")
    page.goto("/dashboard/")
    page.get_by_role("link", name="New consultation").click()
    expect(page.get_by_text("Your time zone: America/New_York")).to_be_visible()
    page.get_by_label("Title").fill("Garden planning")
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Price in US dollars").fill("0")
    page.get_by_label("Start (optional)").fill(f"{year}-01-15T09:30")
    page.get_by_role("button", name="Create and get the link").click()
    expect(page.get_by_role("heading", name="Garden planning")).to_be_visible()

    consultation = Consultation.objects.get(sme=sme)
    assert consultation.scheduled_start == datetime(year, 1, 15, 14, 30, tzinfo=UTC)  # 09:30 EST
    link = page.locator("#join-link").input_value()
    assert link == f"{live_app.url}/c/{consultation.token}/"

    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-status")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == link

    # A newcomer in Tokyo opens the link, signs up as a client on the way and comes back to it.
    guest = new_page()
    in_time_zone(guest, "Asia/Tokyo")
    guest.goto(link)
    expect(guest.locator("time[data-local-time]")).to_contain_text(re.compile(r"11:30\s?PM|23:30"))  # 14:30 UTC
    guest.get_by_role("link", name="Sign up as a client").click()
    expect(guest.get_by_label("A client: I book consultations")).to_be_checked()
    guest.get_by_label("Email").fill("bea@example.com")
    guest.get_by_label("Username").fill("bea")
    guest.get_by_label("Password", exact=True).fill(PASSWORD)
    guest.get_by_label("Password (again)").fill(PASSWORD)
    guest.get_by_role("button", name="Sign up").click()
    expect(guest.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    guest.goto(live_app.link_in_last_mail("bea@example.com", "/accounts/confirm-email/"))
    guest.get_by_role("button", name="Activate my account").click()
    expect(guest).to_have_url(link)

    # Opening the link claimed nothing; the button does.
    assert Consultation.objects.get(pk=consultation.pk).state == Consultation.State.CREATED
    guest.get_by_role("button", name="Claim this consultation").click()
    expect(guest.get_by_text("It's yours. The room is open")).to_be_visible()
    guest.get_by_role("link", name="Enter the room").click()
    expect(guest).to_have_url(f"{live_app.url}/rooms/{consultation.token}/")
    expect(guest.get_by_role("heading", level=1)).to_have_text("Garden planning")
    stored = Consultation.objects.get(pk=consultation.pk)
    assert stored.client.username == "bea" and stored.state == Consultation.State.READY
    assert any("Garden planning: the room is open" in m["Subject"] for m in live_app.messages("ada-sme@example.com"))

    # The SME's page now leads to the room too.
    page.reload()
    page.get_by_role("link", name="Enter the room").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Garden planning")

    # A third person with the link is refused, on the link and at the room's door.
    third = new_page(user=make_client(username="carl"))
    third.goto(link)
    expect(third.get_by_role("heading", name="This consultation belongs to someone else")).to_be_visible()
    third.goto(f"/rooms/{consultation.token}/")
    expect(third.locator("#room-refusal")).to_contain_text("belongs to someone else")


def test_sme_dashboard_on_a_phone_copies_a_link_with_the_keyboard(live_app, new_page):
    sme = make_sme()
    consultation = make_consultation(sme=sme, title="A rather long consultation title to see how it wraps")
    page = new_page(user=sme, viewport={"width": 375, "height": 740}, permissions=["clipboard-read", "clipboard-write"])
    page.goto("/dashboard/")
    expect(page.get_by_text("A rather long consultation title")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    copy = page.get_by_role("button", name="Copy link")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#copy-status")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_app.url}{consultation.get_absolute_url()}"
    page.get_by_role("link", name=consultation.title).click()
    expect(page.locator("#join-link")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_mistyped_link_shows_what_to_do(live_app, new_page):
    page = new_page()
    response = page.goto("/c/this-is-not-a-link/")
    assert response.status == 404
    expect(page.locator("#link-not-found")).to_contain_text("copy the whole link")


def test_the_links_in_the_room_is_open_emails_lead_both_people_to_the_room(live_app, new_page):
    sme = make_sme(username="eve-sme", display_name="Eve Expert")
    client = make_client(username="finn")
    consultation = make_consultation(sme=sme, title="Pricing review")
    page = new_page(user=client)
    page.goto(consultation.get_absolute_url())
    page.get_by_role("button", name="Claim this consultation").click()
    expect(page.get_by_text("It's yours. The room is open")).to_be_visible()
    for user in (client, sme):
        visitor = new_page(user=user)
        visitor.goto(live_app.link_in_last_mail(user.email, "/rooms/"))
        expect(visitor.get_by_role("heading", level=1)).to_have_text("Pricing review")


def test_sign_up_and_claim_keep_the_browsers_time_zone_for_emails(live_app, new_page):
    from accounts.models import User

    page = new_page()
    in_time_zone(page, "Australia/Sydney")
    page.goto("/accounts/signup/")
    page.get_by_label("A client: I book consultations").check()
    page.get_by_label("Email").fill("zoe@example.com")
    page.get_by_label("Username").fill("zoe-client")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert User.objects.get(username="zoe-client").time_zone == "Australia/Sydney"

    # A client who travelled: claiming from Tokyo updates it.
    claimer = make_client(username="traveller")
    consultation = make_consultation()
    page = new_page(user=claimer)
    in_time_zone(page, "Asia/Tokyo")
    page.goto(consultation.get_absolute_url())
    page.get_by_role("button", name="Claim this consultation").click()
    expect(page.locator(".messages")).to_contain_text("It's yours")
    claimer.refresh_from_db()
    assert claimer.time_zone == "Asia/Tokyo"
