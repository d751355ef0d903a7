"""A new ledger kind: an earning reversed because its consultation was refunded to the client after it was credited.

SQLite rebuilds the table to change its constraints, which drops the append-only triggers: they are lifted
first and put back after, as in 0003.
"""

import importlib

from django.db import migrations, models

_0003 = importlib.import_module("payouts.migrations.0003_ledger_source_key_replaces_consultation")

KINDS = ["earning", "payout", "payout_reversal", "adjustment", "earning_reversal"]


class Migration(migrations.Migration):
    dependencies = [("payouts", "0003_ledger_source_key_replaces_consultation")]

    operations = [
        _0003._lift_triggers(),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledger_kind_known"),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("earning", "Earning"),
                    ("payout", "Payout"),
                    ("payout_reversal", "Payout returned"),
                    ("adjustment", "Adjustment"),
                    ("earning_reversal", "Earning reversed (refunded)"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "earning_reversal"), _negated=True),
                    models.Q(
                        ("amount_cents__lt", 0),
                        models.Q(("source_key", ""), _negated=True),
                        models.Q(("reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="ledger_earning_reversal_is_a_debit_for_a_source",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(condition=models.Q(("kind__in", KINDS)), name="ledger_kind_known"),
        ),
        _0003._restore_triggers(),
    ]
