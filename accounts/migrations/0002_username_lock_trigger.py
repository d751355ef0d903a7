"""The database itself refuses to change an activated account's username (defence in depth:
the model layer refuses first, with a clearer message)."""

from django.db import migrations

MESSAGE = "username is locked after activation"  # accounts.models.USERNAME_LOCK_DB_MESSAGE

SQLITE_UP = f"""
CREATE TRIGGER accounts_user_username_locked
BEFORE UPDATE OF username ON accounts_user
WHEN OLD.activated_at IS NOT NULL AND NEW.username <> OLD.username
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS accounts_user_username_locked;"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION accounts_user_username_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.activated_at IS NOT NULL AND NEW.username IS DISTINCT FROM OLD.username THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_user_username_locked
BEFORE UPDATE OF username ON accounts_user
FOR EACH ROW EXECUTE FUNCTION accounts_user_username_locked();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS accounts_user_username_locked ON accounts_user;
DROP FUNCTION IF EXISTS accounts_user_username_locked();
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
