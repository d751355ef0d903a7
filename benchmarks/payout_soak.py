"""Soak: hundreds of payout runs with random PayPal faults and concurrent runners; prints runs and violations.

    python benchmarks/payout_soak.py [--runs 200] [--smes 40] [--seed N]

Uses a throwaway SQLite database, or DATABASE_URL if set (PostgreSQL: the concurrent runners really race;
give it an empty database). Each round: SMEs earn at random (some receivers fail, come back unclaimed,
are held or unlinked), the emulator is told to fail at random (timeouts, 5xx, accept-then-timeout on the
batch create or on reads, forgotten request ids, a funds limit), and 1-3 runners pay the same payout date
at once; then one clean rerun and a sync finish it. After every round the invariants every payout test
checks are counted: each sender_item_id at PayPal at most once, each item debited once and credited back
only when its money came back, PayPal's items are ours, and every balance is earned less what PayPal holds.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Not "onhold": PayPal resolves those in days, the emulator never does, and every sync would read them again.
RECEIVERS = ["sme", "sme", "sme", "sme", "failed", "unclaimed", "returned", "reversed", "blocked", "refunded"]
FAULTS = [
    ("timeout", "/v1/payments/payouts"),
    ("server_error", "/v1/payments/payouts"),
    ("accept_then_timeout", "/v1/payments/payouts"),
    ("server_error", "/v1/payments/payouts/"),
    ("timeout", "/v1/payments/payouts-item/"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--smes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    work = Path(tempfile.mkdtemp(prefix="payout-soak-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'soak.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interkanect.settings")
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from payouts import runs, services
    from payouts.calendar import payout_days
    from payouts.paypal.emulator import PayPalEmulator
    from payouts.paypal.gateway import _gateway
    from tests.factories import make_sme
    from tests.payouts.payout_support import earn, payout_violations, staff

    logging.disable(logging.WARNING)  # the faults are the point: their warnings would flood the output
    call_command("migrate", verbosity=0)
    emulator = PayPalEmulator(hang_seconds=0.5).serve()
    settings.PAYPAL_API_BASE_URL = settings.PAYPAL_WEB_BASE_URL = emulator.url
    settings.PAYPAL_TIMEOUT_SECONDS = 0.3
    settings.PAYPAL_RETRIES = 1
    settings.PAYPAL_RETRY_BACKOFF_SECONDS = 0
    settings.PAYOUT_BATCH_MAX_ITEMS = 7  # several batches a run, so runners overlap mid-run
    settings.PAYOUT_UNCLAIMED_CANCEL_DAYS = 25
    _gateway.cache_clear()

    admin = staff()
    smes = []
    for n in range(args.smes):
        sme = make_sme(username=f"soak{n}")
        word = rng.choice(RECEIVERS)
        if rng.random() < 0.9:
            services.sme_paypal_enter_email(profile=sme.sme_profile, email=f"{word}{n}@example.com", actor=sme)
        smes.append(sme)

    days = [day.date for year in range(2027, 2100) for day in payout_days(year)][: args.runs]
    rounds = violations = crashes = unfinished = 0
    started = time.monotonic()
    for payout_date in days:
        rounds += 1
        for sme in rng.sample(smes, k=max(1, len(smes) // 3)):
            earn(sme, rng.randrange(100, 5000), rng.choice(["USD", "USD", "USD", "EUR"]))
        if rng.random() < 0.1:
            sme = rng.choice(smes)
            hold = (
                services.payout_hold_place(account=sme, reason="soak", actor=admin)
                if not sme.payout_holds.filter(lifted_at__isnull=True).exists()
                else sme.payout_holds.get(lifted_at__isnull=True)
            )
            if rng.random() < 0.5:
                services.payout_hold_lift(hold=hold, actor=admin)
        for _ in range(rng.randrange(0, 3)):
            kind, path = rng.choice(FAULTS)
            emulator.add_fault(kind, path=path, times=rng.randrange(1, 4))
        if rng.random() < 0.2:
            emulator.forget_request_ids()
        emulator.set_funds(rng.choice([None, None, None, "150.00"]))

        def runner(day=payout_date) -> None:
            nonlocal crashes, unfinished
            try:
                report = runs.payout_run(payout_date=day, sync=False)
                unfinished += bool(report.errors)
            except Exception:  # a crash point: the rerun below must finish what it left
                crashes += 1
            finally:
                connection.close()

        threads = [threading.Thread(target=runner) for _ in range(rng.randrange(1, 4))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for faults_left in list(emulator.state.faults):
            emulator.state.faults.remove(faults_left)
        emulator.set_funds(None)
        now = datetime.combine(payout_date, clock(12)).astimezone() + timedelta(days=1)
        for _ in range(3):  # a clean rerun and syncs, as the next cron runs would
            try:
                runs.payout_run(payout_date=payout_date, sync=False)
            except Exception:
                crashes += 1
            runs.payouts_sync(now=now)
            now += timedelta(days=13)
        found = payout_violations(emulator)
        violations += len(found)
        for line in found[:5]:
            print(f"round {rounds} ({payout_date}): {line}")
        if rounds % 25 == 0:
            print(f"... {rounds} runs, {violations} violations so far", flush=True)
    elapsed = time.monotonic() - started
    paid = len(emulator.state.items)
    print(
        f"soak (seed {seed}, {connection.vendor}): {rounds} runs, {crashes} runner crashes, {unfinished} runners "
        f"left batches unsent (PayPal faults), {paid} items paid, "
        f"{User.objects.filter(role='sme').count()} SMEs, {elapsed:.0f} s; violations: {violations}"
    )
    emulator.stop()
    if violations:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
