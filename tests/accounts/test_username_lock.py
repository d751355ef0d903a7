"""A username can be corrected before activation and never after, on every path."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Upper
from django.urls import reverse

from accounts import services
from accounts.models import ActivationLockedError, User, UsernameLockedError
from tests.factories import make_client, make_sme

pytestmark = pytest.mark.django_db


def test_username_cannot_change_on_save_after_activation():
    user = make_sme(username="ada")
    user.username = "ada2"
    with pytest.raises(UsernameLockedError, match="'ada' cannot change"):
        user.save()
    assert User.objects.get(pk=user.pk).username == "ada"


def test_other_fields_still_save_after_activation():
    user = make_sme(username="ada")
    user.first_name = "Ada"
    user.save()
    assert User.objects.get(pk=user.pk).first_name == "Ada"


def test_username_can_change_on_save_before_activation():
    user = make_sme(username="adaa", activated=False)
    user.username = "ada"
    user.save()
    assert User.objects.get(pk=user.pk).username == "ada"


def test_username_cannot_change_through_queryset_update():
    user = make_client(username="bob")
    with pytest.raises(UsernameLockedError, match="'bob'"):
        User.objects.filter(pk=user.pk).update(username="bobby")
    assert User.objects.get(pk=user.pk).username == "bob"


def test_queryset_update_with_an_expression_is_refused_too():
    user = make_client(username="bob")
    with pytest.raises(UsernameLockedError):
        User.objects.filter(pk=user.pk).update(username=Upper("username"))
    assert User.objects.get(pk=user.pk).username == "bob"


def test_queryset_update_may_rename_unactivated_accounts():
    user = make_client(username="bobb", activated=False)
    assert User.objects.filter(pk=user.pk).update(username="bob") == 1
    assert User.objects.get(pk=user.pk).username == "bob"


def test_username_cannot_change_through_bulk_update():
    activated = make_client(username="carol")
    pending = make_client(username="dave", activated=False)
    activated.username, pending.username = "carol2", "dave2"
    with pytest.raises(UsernameLockedError, match="'carol'"):
        User.objects.bulk_update([activated, pending], ["username"])
    assert set(User.objects.values_list("username", flat=True)) == {"carol", "dave"}


def test_bulk_update_of_other_fields_and_unchanged_usernames_works():
    user = make_client(username="erin")
    user.first_name = "Erin"
    User.objects.bulk_update([user], ["username", "first_name"])
    assert User.objects.get(pk=user.pk).first_name == "Erin"


def test_the_database_itself_refuses_a_rename_after_activation():
    user = make_client(username="frank")
    table = User._meta.db_table
    with pytest.raises(IntegrityError, match="username is locked"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET username = %s WHERE id = %s", ["frankie", user.pk])
    assert User.objects.get(pk=user.pk).username == "frank"


def test_rename_before_activation_service_checks_allauth_rules():
    make_client(username="taken")
    user = make_client(username="newbie", activated=False)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.user_rename_before_activation(user=user, username="taken")
    services.user_rename_before_activation(user=user, username="newcomer")
    assert User.objects.get(pk=user.pk).username == "newcomer"


def test_admin_shows_an_activated_username_read_only(admin_client):
    user = make_sme(username="gina")
    page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200
    assert b'name="username"' not in page.content
    assert b"gina" in page.content
    # A forged POST cannot change it either: the field is not in the form at all.
    admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "username": "gina2",
            "email": user.email,
            "role": "sme",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "is_active": "on",
        },
    )
    assert User.objects.get(pk=user.pk).username == "gina"


def test_admin_lets_staff_correct_an_unactivated_username(admin_client):
    user = make_sme(username="hank", activated=False)
    page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert b'name="username"' in page.content


def test_account_page_shows_username_read_only_with_the_reason(client):
    user = make_sme(username="ivy")
    client.force_login(user)
    page = client.get(reverse("account_profile"))
    html = page.content.decode()
    assert 'value="ivy" readonly' in html
    assert "cannot" in html and "change" in html
    assert "open a new SME account" in html


# --- The activation itself is locked: clearing it first would undo the username lock. ---


def test_the_database_refuses_to_clear_an_activation_so_the_username_stays_locked():
    user = make_client(username="olga")
    table = User._meta.db_table
    with pytest.raises(IntegrityError, match="activation cannot be undone"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET activated_at = NULL WHERE id = %s", [user.pk])
    with pytest.raises(IntegrityError, match="username is locked"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET username = %s WHERE id = %s", ["olga2", user.pk])
    stored = User.objects.get(pk=user.pk)
    assert (stored.username, stored.activated_at) == ("olga", user.activated_at)


def test_an_activation_cannot_be_cleared_on_save():
    user = make_client(username="pete")
    user.activated_at = None
    with pytest.raises(ActivationLockedError, match="'pete'"):
        user.save()
    with pytest.raises(ActivationLockedError):
        user.save(update_fields=["activated_at"])
    assert User.objects.get(pk=user.pk).activated_at is not None


def test_an_activation_cannot_be_cleared_through_update_or_bulk_update():
    user = make_client(username="quin")
    with pytest.raises(ActivationLockedError, match="'quin'"):
        User.objects.filter(pk=user.pk).update(activated_at=None)
    user.activated_at = None
    with pytest.raises(ActivationLockedError, match="'quin'"):
        User.objects.bulk_update([user], ["activated_at"])
    assert User.objects.get(pk=user.pk).activated_at is not None


def test_an_expression_that_clears_an_activation_is_refused_by_the_database_and_reported():
    from django.db.models import Value

    user = make_client(username="rita")
    with pytest.raises(ActivationLockedError):
        User.objects.filter(pk=user.pk).update(
            activated_at=Value(None, output_field=User._meta.get_field("activated_at"))
        )
    assert User.objects.get(pk=user.pk).activated_at is not None


def test_an_unactivated_account_saves_and_activates_as_before():
    user = make_client(username="sam", activated=False)
    user.first_name = "Sam"
    user.save()
    assert services.user_activate(user=user) is True
    assert User.objects.get(pk=user.pk).activated_at is not None
