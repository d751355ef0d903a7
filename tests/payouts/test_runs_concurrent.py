"""Two run_payouts processes for the same date at once, on PostgreSQL: each SME is paid once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from payouts.models import PayoutBatch, PayoutRun
from tests.payouts.payout_support import assert_paid_at_most_once_and_ledger_balances, balance, sme_with_balance

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_pay_each_sme_once(paypal_emulator, settings):
    if connection.vendor != "postgresql":
        pytest.skip("two processes share the database only on PostgreSQL (SQLite tests run in memory)")
    settings.PAYOUT_BATCH_MAX_ITEMS = 2  # several batches, so the two runners overlap while sending
    smes = [sme_with_balance(1000 + n) for n in range(5)]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "PAYPAL_API_BASE_URL": paypal_emulator.url,
        "PAYPAL_WEB_BASE_URL": paypal_emulator.url,
        "PAYOUT_BATCH_MAX_ITEMS": "2",
        "PAYOUT_MINIMUM_CENTS": "1000",
    }
    command = [sys.executable, "manage.py", "run_payouts", "--date", "2027-01-15"]
    runners = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)
    ]
    outputs = [runner.communicate(timeout=120)[0].decode() for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0], outputs
    assert sum("Created the payout run" in out for out in outputs) == 1, outputs
    assert PayoutRun.objects.count() == 1
    assert set(PayoutBatch.objects.values_list("status", flat=True)) == {PayoutBatch.Status.SENT}
    assert len(paypal_emulator.state.batches) == 3 and len(paypal_emulator.state.items) == 5
    assert [balance(sme) for sme in smes] == [0] * 5
    assert_paid_at_most_once_and_ledger_balances(paypal_emulator)
