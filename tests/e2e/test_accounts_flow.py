"""A new SME signs up, activates the account from the e-mail, logs in and sees the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_sme_signs_up_confirms_email_logs_in_and_sees_dashboard(live_app, new_page):
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="Sign up as an expert").click()
    expect(page.get_by_label("An expert (SME): I sell consultations")).to_be_checked()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Username").fill("grace-h")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_label("Display name (SMEs)").fill("Grace Hopper")
    page.get_by_label("Your expertise in one line (SMEs)").fill("Compilers, debugged live")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    # Not active yet: logging in only re-sends the link.
    link = live_app.link_in_last_mail("grace@example.com", "/accounts/confirm-email/")
    page.goto(link)
    expect(page.get_by_label("Username")).to_have_value("grace-h")
    page.get_by_label("Username").fill("grace")  # the last moment to correct it
    page.get_by_role("button", name="Activate my account").click()
    expect(page.get_by_role("heading", name="Welcome, Grace Hopper")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Welcome, Grace Hopper")).to_be_visible()
    expect(page.locator("#standing")).to_contain_text("In good standing")
    expect(page.locator("#paypal")).to_contain_text("PayPal not linked")

    page.goto("/accounts/profile/")
    expect(page.locator("#username")).to_have_value("grace")
    expect(page.locator("#username")).to_have_attribute("readonly", "")


def test_signup_errors_show_next_to_the_fields_on_a_phone(live_app, new_page):
    page = new_page(viewport={"width": 375, "height": 740})
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#id_role_errors")).to_contain_text("Choose whether you are an expert")
    expect(page.locator("#id_email_errors")).to_be_visible()
    # Nothing overflows sideways on a narrow screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_signup_shows_the_sme_fields_only_to_an_sme_and_the_username_rule_beside_the_username(
    live_app, new_page, javascript
):
    page = new_page(javascript=javascript)
    page.goto("/accounts/signup/")
    display_name = page.get_by_label("Display name (SMEs)")
    expect(display_name).to_be_hidden()  # nothing chosen yet
    page.get_by_label("A client: I book consultations").check()
    expect(display_name).to_be_hidden()
    expect(page.get_by_label("Your expertise in one line (SMEs)")).to_be_hidden()
    page.get_by_label("An expert (SME): I sell consultations").check()
    expect(display_name).to_be_visible()
    # The warning is the username field's own description, right under it.
    username = page.get_by_label("Username")
    expect(username).to_have_accessible_description(re.compile("never after"))
    help_box = page.locator("#id_username_helptext").bounding_box()
    field_box = username.bounding_box()
    assert 0 <= help_box["y"] - (field_box["y"] + field_box["height"]) < 40
