"""Sign-up with a role, activation by e-mail, corrections before it, closing an account."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import AuditEvent, SMEProfile, User
from tests.factories import PASSWORD, make_client, make_sme

pytestmark = pytest.mark.django_db


def signup(client, **overrides):
    data = {
        "role": "sme",
        "email": "ada@example.com",
        "username": "ada",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "display_name": "Ada Lovelace",
        "headline": "Analytical engines",
    }
    data.update(overrides)
    return client.post(reverse("account_signup"), data)


def confirmation_link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body).group(1)


def test_sme_signs_up_without_paypal_and_gets_an_activation_email(client):
    response = signup(client)
    assert response.status_code == 302
    user = User.objects.get(username="ada")
    assert user.role == User.Role.SME and user.activated_at is None
    assert SMEProfile.objects.get(user=user).display_name == "Ada Lovelace"
    assert len(mail.outbox) == 1 and "confirm-email" in mail.outbox[0].body


def test_cannot_log_in_before_activation(client):
    signup(client)
    client.logout()
    response = client.post(reverse("account_login"), {"login": "ada", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")


def test_activation_fixes_the_username_and_logs_in(client):
    signup(client)
    link = confirmation_link(mail.outbox[0])
    page = client.get(link)
    assert b"last moment to correct your username" in page.content
    response = client.post(link, {"username": "ada"})
    assert response.status_code == 302
    user = User.objects.get(username="ada")
    assert user.activated_at is not None
    assert AuditEvent.objects.filter(event="account.activated", subject=user).exists()
    assert client.get(reverse("dashboard")).status_code == 200


def test_username_can_be_corrected_on_the_activation_page(client):
    signup(client, username="adaa")
    link = confirmation_link(mail.outbox[0])
    client.post(link, {"username": "ada"})
    user = User.objects.get(email="ada@example.com")
    assert user.username == "ada" and user.activated_at is not None
    assert AuditEvent.objects.filter(event="account.username_corrected", data__to="ada").exists()


def test_a_taken_username_is_refused_on_the_activation_page_without_activating(client):
    make_client(username="bob")
    signup(client, username="adaa")
    link = confirmation_link(mail.outbox[0])
    page = client.post(link, {"username": "bob"})
    assert page.status_code == 200
    assert b"id_username_errors" in page.content
    user = User.objects.get(email="ada@example.com")
    assert user.username == "adaa" and user.activated_at is None


def test_signup_without_a_role_shows_the_error_next_to_the_field_and_creates_nothing(client):
    page = signup(client, role="")
    assert page.status_code == 200
    assert b'id="id_role_errors"' in page.content
    assert b"Choose whether you are an expert" in page.content
    assert not User.objects.exists()


def test_signup_is_all_or_nothing_when_the_email_cannot_be_sent(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    client.raise_request_exception = False
    response = signup(client)
    assert response.status_code == 500
    assert not User.objects.exists() and not EmailAddress.objects.exists()


def test_signup_form_preselects_the_role_from_the_link(client):
    page = client.get(reverse("account_signup") + "?role=client")
    assert re.search(rb'value="client"[^>]*checked', page.content)


def test_login_is_rate_limited(client):
    make_client(username="carol")
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "carol", "password": "wrong"})
    # Even the right password is refused now, with a message that says why.
    response = client.post(reverse("account_login"), {"login": "carol", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert b"Too many failed login attempts. Try again later." in response.content


def test_sme_can_close_the_account_and_the_email_can_register_again(client):
    sme = make_sme(username="dora")
    client.force_login(sme)
    page = client.post(reverse("account_close"), {"confirm_username": "nope"})
    assert b"Type dora exactly" in page.content
    assert User.objects.get(pk=sme.pk).closed_at is None

    client.post(reverse("account_close"), {"confirm_username": "dora"})
    closed = User.objects.get(pk=sme.pk)
    assert closed.closed_at and not closed.is_active and closed.closed_email == "dora@example.com"
    assert AuditEvent.objects.filter(event="account.closed", subject=closed).exists()
    client.post(reverse("account_login"), {"login": "dora", "password": PASSWORD})
    assert "_auth_user_id" not in client.session

    signup(client, email="dora@example.com", username="dora2")
    assert User.objects.get(username="dora2").email == "dora@example.com"


def test_closed_account_cannot_log_in(client):
    sme = make_sme(username="eve")
    from accounts.services import user_close

    user_close(user=sme, actor=sme)
    response = client.post(reverse("account_login"), {"login": "eve", "password": PASSWORD}, follow=True)
    assert "_auth_user_id" not in client.session
    assert b"This account is closed" in response.content


def test_sme_profile_is_shown_on_the_dashboard_and_can_be_edited(client):
    sme = make_sme(username="fay", display_name="Fay", headline="Old headline")
    client.force_login(sme)
    client.post(reverse("account_profile"), {"display_name": "Fay Expert", "headline": "Tax for freelancers"})
    page = client.get(reverse("dashboard")).content.decode()
    assert "Fay Expert" in page and "Tax for freelancers" in page
    assert "PayPal not linked" in page


def test_profile_form_errors_sit_next_to_the_field(client):
    sme = make_sme(username="gus")
    client.force_login(sme)
    page = client.post(reverse("account_profile"), {"display_name": "", "headline": "x"})
    assert b'id="id_display_name_errors"' in page.content


def test_every_page_sends_a_same_origin_content_security_policy(client):
    csp = client.get(reverse("home"))["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp


def test_help_page_answers_the_sme_questions(client):
    page = client.get(reverse("help")).content.decode()
    for answer in [
        "need a PayPal account to be paid",
        "first Friday of January",
        "day before",
        "never",
        "open a new expert account",
        "PayPal payout",
        "does not record",
    ]:
        assert answer in page


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    make_client(username="hal")
    client.post(reverse("account_reset_password"), {"email": "hal@example.com"})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    new_password = "another-Strong-pass-7"
    client.post(form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})
    assert client.login(username="hal", password=new_password)


def test_activation_from_another_device_still_leads_back_to_where_the_person_was_going(client):
    client.post(
        reverse("account_signup") + "?next=/c/some-join-token/",
        {
            "role": "client",
            "email": "ivy@example.com",
            "username": "ivy",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "/c/some-join-token/",
        },
    )
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    assert "next=%2Fc%2Fsome-join-token%2F" in link
    from django.test import Client

    phone = Client()  # another browser: not logged in there
    response = phone.post(link, {"username": "ivy", "next": "/c/some-join-token/"})
    assert User.objects.get(username="ivy").activated_at is not None
    assert response.status_code == 302 and response["Location"] == "/c/some-join-token/"


def test_an_outside_next_is_not_carried_into_the_activation_link(client):
    client.post(
        reverse("account_signup"),
        {
            "role": "client",
            "email": "joan@example.com",
            "username": "joan",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert "evil" not in mail.outbox[-1].body


def test_the_activation_email_is_ours_in_text_and_html(client):
    signup(client, username="ada_l")
    message = mail.outbox[0]
    assert message.subject == "[InterKanect] Activate your account, ada_l"
    html = dict((mime, body) for body, mime in message.alternatives)["text/html"]
    for body in (message.body, html):
        assert "activate your InterKanect account" in body
        assert "ada_l" in body and "last chance to change it" in body
        assert "Hello from" not in body and "127.0.0.1" not in body
    link = confirmation_link(message)
    assert f'href="http://testserver{link}"' in html


def test_logging_in_within_the_cooldown_does_not_claim_a_link_was_sent(client):
    signup(client)
    assert "We sent you a link" in client.get(reverse("account_email_verification_sent")).content.decode()
    client.logout()
    response = client.post(reverse("account_login"), {"login": "ada", "password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert len(mail.outbox) == 1  # allauth's cooldown: no second e-mail
    assert "We sent you a link" not in page and "did not send another one now" in page
    assert "open the\n    link in that e-mail" in page


def test_logging_in_after_the_cooldown_sends_a_new_link_and_says_so(client):
    signup(client)
    client.logout()
    from django.core.cache import cache

    cache.clear()  # the cooldown has passed
    page = client.post(reverse("account_login"), {"login": "ada", "password": PASSWORD}, follow=True).content.decode()
    assert len(mail.outbox) == 2 and "We sent you a link" in page


def test_the_expired_link_page_does_not_promise_a_link_at_once(client):
    page = client.get("/accounts/confirm-email/not-a-key/").content.decode()
    assert "expired or was already used" in page
    assert "at once" not in page and "unless we sent one in the\n    last few minutes" in page


def test_signup_keeps_the_browsers_time_zone_for_emails(client):
    signup(client, time_zone="Europe/Paris")
    assert User.objects.get(username="ada").time_zone == "Europe/Paris"


def test_signup_ignores_a_time_zone_no_one_knows(client):
    signup(client, time_zone="Europe/Atlantis")
    assert User.objects.get(username="ada").time_zone == ""


def test_help_page_answers_the_client_questions_too(client):
    page = client.get(reverse("help")).content.decode()
    assert 'id="for-clients"' in page and 'id="for-experts"' in page
    for answer in [
        "Sign up for a free client account",
        "Nothing is charged when you claim it",
        "Enter the room",
        "there is nothing to install",
        "You can cancel while the consultation waits for payment",
        "Every control works from the keyboard",
    ]:
        assert answer in page
