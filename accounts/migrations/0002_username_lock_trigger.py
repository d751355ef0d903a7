"""The database itself refuses to change an activated account's username (defence in depth:
the model layer refuses first, with a clearer message)."""

from django.db import migrations

from interkanect.migration_operations import vendor_sql

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


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [vendor_sql(sqlite_up=SQLITE_UP, sqlite_down=SQLITE_DOWN, postgresql_up=POSTGRES_UP, postgresql_down=POSTGRES_DOWN)]
