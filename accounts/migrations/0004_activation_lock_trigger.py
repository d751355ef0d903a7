"""The database itself refuses to clear an account's activation once set: otherwise clearing it first
would undo the username lock of migration 0002 (the model layer refuses first, with a clearer message)."""

from django.db import migrations

from interkanect.migration_operations import vendor_sql

MESSAGE = "activation cannot be undone"  # accounts.models.ACTIVATION_LOCK_DB_MESSAGE

SQLITE_UP = f"""
CREATE TRIGGER accounts_user_activation_locked
BEFORE UPDATE OF activated_at ON accounts_user
WHEN OLD.activated_at IS NOT NULL AND NEW.activated_at IS NULL
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS accounts_user_activation_locked;"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION accounts_user_activation_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.activated_at IS NOT NULL AND NEW.activated_at IS NULL THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_user_activation_locked
BEFORE UPDATE OF activated_at ON accounts_user
FOR EACH ROW EXECUTE FUNCTION accounts_user_activation_locked();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS accounts_user_activation_locked ON accounts_user;
DROP FUNCTION IF EXISTS accounts_user_activation_locked();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_smeprofile_paypal_link")]
    operations = [
        vendor_sql(sqlite_up=SQLITE_UP, sqlite_down=SQLITE_DOWN, postgresql_up=POSTGRES_UP, postgresql_down=POSTGRES_DOWN)
    ]
