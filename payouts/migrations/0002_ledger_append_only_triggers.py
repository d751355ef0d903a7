"""The database itself refuses to change a ledger entry, and (PostgreSQL) to delete one.

Defence in depth under the model layer, which refuses first with a clearer message. SQLite gets no
DELETE trigger: Django empties test databases with DELETE there (PostgreSQL uses TRUNCATE, which
row triggers do not see).
"""

from django.db import migrations

from interkanect.migration_operations import vendor_sql

MESSAGE = "ledger entries are append-only"  # payouts.models.LEDGER_IMMUTABLE_DB_MESSAGE

SQLITE_UP = f"""
CREATE TRIGGER payouts_ledgerentry_no_update
BEFORE UPDATE ON payouts_ledgerentry
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS payouts_ledgerentry_no_update;"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION payouts_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payouts_ledgerentry_append_only
BEFORE UPDATE OR DELETE ON payouts_ledgerentry
FOR EACH ROW EXECUTE FUNCTION payouts_ledgerentry_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS payouts_ledgerentry_append_only ON payouts_ledgerentry;
DROP FUNCTION IF EXISTS payouts_ledgerentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_ledger")]
    operations = [vendor_sql(sqlite_up=SQLITE_UP, sqlite_down=SQLITE_DOWN, postgresql_up=POSTGRES_UP, postgresql_down=POSTGRES_DOWN)]
