"""An earning names its source ("consultation:42") instead of a foreign key to sessions_app.

The ledger then knows no app above it. The append-only triggers are lifted for the copy (an UPDATE
they would refuse) and put back as they were, the earning constraint now requiring a source.
"""

import importlib

from django.db import migrations, models
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from interkanect.migration_operations import vendor_sql

triggers = importlib.import_module("payouts.migrations.0002_ledger_append_only_triggers")

PREFIX = "consultation:"


def copy_consultation_to_source_key(apps, schema_editor):
    LedgerEntry = apps.get_model("payouts", "LedgerEntry")
    LedgerEntry.objects.filter(consultation__isnull=False).update(
        source_key=Concat(Value(PREFIX), Cast("consultation_id", CharField()))
    )


def copy_source_key_to_consultation(apps, schema_editor):
    LedgerEntry = apps.get_model("payouts", "LedgerEntry")
    for entry in LedgerEntry.objects.filter(source_key__startswith=PREFIX).only("pk", "source_key"):
        LedgerEntry.objects.filter(pk=entry.pk).update(consultation_id=int(entry.source_key.removeprefix(PREFIX)))


def _lift_triggers():
    return vendor_sql(
        sqlite_up=triggers.SQLITE_DOWN,
        sqlite_down=triggers.SQLITE_UP,
        postgresql_up=triggers.POSTGRES_DOWN,
        postgresql_down=triggers.POSTGRES_UP,
    )


def _restore_triggers():
    return vendor_sql(
        sqlite_up=triggers.SQLITE_UP,
        sqlite_down=triggers.SQLITE_DOWN,
        postgresql_up=triggers.POSTGRES_UP,
        postgresql_down=triggers.POSTGRES_DOWN,
    )


class Migration(migrations.Migration):
    dependencies = [("payouts", "0002_ledger_append_only_triggers")]

    operations = [
        _lift_triggers(),
        migrations.AddField(
            model_name="ledgerentry",
            name="source_key",
            field=models.CharField(
                blank=True, db_index=True, help_text="What an earning is for, e.g. consultation:42.", max_length=150
            ),
        ),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledger_earning_is_a_credit_for_a_consultation"),
        migrations.RunPython(copy_consultation_to_source_key, copy_source_key_to_consultation),
        migrations.RemoveField(model_name="ledgerentry", name="consultation"),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "earning"), _negated=True),
                    models.Q(("amount_cents__gt", 0), models.Q(("source_key", ""), _negated=True)),
                    _connector="OR",
                ),
                name="ledger_earning_is_a_credit_for_a_source",
            ),
        ),
        _restore_triggers(),
    ]
