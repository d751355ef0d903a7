"""The deploy check that warns when the app's PostgreSQL role is a superuser (one that can disable triggers)."""

import pytest
from django.db import connection

from interkanect.checks import database_role_not_superuser

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL role")


def warning_ids(**kwargs) -> list[str]:
    return [warning.id for warning in database_role_not_superuser(None, **kwargs)]


@postgresql_only
def test_a_superuser_role_gets_a_deploy_warning():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0], "the suite connects as a superuser (postgres) on PostgreSQL"
    assert warning_ids() == ["interkanect.W003"]
    assert warning_ids(databases=["default"]) == ["interkanect.W003"]


@postgresql_only
def test_an_ordinary_role_gets_none():
    # Roles are transactional in PostgreSQL: the test's transaction rolls this one back.
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE interkanect_check_app NOSUPERUSER NOLOGIN")
        cursor.execute("SET LOCAL ROLE interkanect_check_app")
    assert warning_ids() == []


def test_sqlite_and_checks_without_databases_get_none():
    assert warning_ids(databases=[]) == []
    if connection.vendor == "sqlite":
        assert warning_ids() == []
