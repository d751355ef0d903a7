"""One set of username rules on every path that sets a username: sign-up, activation, admin, createsuperuser."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, make_client, make_user

pytestmark = pytest.mark.django_db


def signup(client, username, email="walker@example.com"):
    return client.post(
        reverse("account_signup"),
        {"role": "client", "email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def activation_link() -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[-1].body).group(1)


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("q1", "at least 3 characters"),
        ("admin", "reserved"),
        ("Support", "reserved"),
        ("pay-pal", "reserved"),
        ("InterKanect_Team", "reserved"),
        ("ada lovelace", "only letters"),
        ("_ada", "starts with a letter or digit"),
        ("x" * 31, "at most 30 characters"),
    ],
)
def test_the_activation_page_refuses_a_username_sign_up_would_refuse(client, bad, reason):
    signup(client, "walk_shortX")
    page = client.post(activation_link(), {"username": bad})
    assert page.status_code == 200 and reason in page.content.decode()
    user = User.objects.get(email="walker@example.com")
    assert user.username == "walk_shortX" and user.activated_at is None


def test_the_activation_page_refuses_a_name_taken_in_other_letter_case(client):
    make_client(username="bobby")
    signup(client, "walk_shortX")
    page = client.post(activation_link(), {"username": "BOBBY"})
    assert "already taken" in page.content.decode()
    assert User.objects.get(email="walker@example.com").activated_at is None


def test_the_activation_page_lets_a_person_change_the_case_of_their_own_name(client):
    signup(client, "walker")
    client.post(activation_link(), {"username": "Walker"})
    user = User.objects.get(email="walker@example.com")
    assert user.username == "Walker" and user.activated_at is not None


@pytest.mark.parametrize("bad, reason", [("admin", "reserved"), ("Ada", "already taken"), ("a!b", "only letters")])
def test_sign_up_refuses_what_the_rules_refuse(client, bad, reason):
    make_client(username="ada")
    page = signup(client, bad)
    assert page.status_code == 200 and reason in page.content.decode()
    assert not User.objects.filter(email="walker@example.com").exists()


def test_the_database_refuses_two_names_that_differ_only_in_case():
    make_user(username="carla")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="CARLA", email="other@example.com")


@pytest.mark.parametrize("bad, reason", [("support", "reserved"), ("ADA", "already taken"), ("ab", "at least 3")])
def test_createsuperuser_applies_the_same_rules(bad, reason):
    make_client(username="ada")
    with pytest.raises(CommandError, match=reason):
        call_command("createsuperuser", "--noinput", username=bad, email="root@example.com", stdout=StringIO())
    assert not User.objects.filter(email="root@example.com").exists()


def test_createsuperuser_accepts_a_good_name():
    call_command("createsuperuser", "--noinput", username="ops-anna", email="anna@example.com", stdout=StringIO())
    assert User.objects.get(username="ops-anna").is_superuser


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("site-ops", "ops@example.com", PASSWORD)
    client.force_login(admin)
    return client


@pytest.mark.parametrize("bad, reason", [("paypal", "reserved"), ("SITE-OPS", "already taken"), ("q", "at least 3")])
def test_the_admin_add_form_applies_the_same_rules(admin_client, bad, reason):
    page = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"username": bad, "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert page.status_code == 200 and reason in page.content.decode()
    assert not User.objects.filter(username=bad).exists()


def test_the_admin_shows_an_activated_username_and_role_read_only_without_choosing_help(admin_client):
    user = make_client(username="fixed-name")
    page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert "fixed-name (fixed since activation)" in page
    assert 'name="username"' not in page and 'name="role"' not in page
    assert "150 characters" not in page and "3 to 30 characters" not in page


def test_the_admin_can_still_set_the_role_before_activation(admin_client):
    user = make_user(username="not-yet", activated=False)
    page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert 'name="role"' in page and 'name="username"' in page
