"""A payout run for 100,000 SMEs against the PayPal emulator: prints the run's wall time and peak memory.

    python benchmarks/payout_run.py [--smes 100000]

Uses a throwaway SQLite database (or DATABASE_URL if set: an empty database, it is migrated and filled).
The SMEs, their PayPal links and balances are written in bulk first (not measured); then
`manage.py run_payouts --date 2027-01-15` runs in its own process against the emulator (another process),
and its wall time and peak resident memory are printed. Target on the 2-core machine: under 60 s and 300 MB.
It then checks what every payout test checks: each sender_item_id reached PayPal once, balances are 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAYDAY = "2027-01-15"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/_emulator/health", timeout=2).close()  # noqa: S310 - loopback
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the PayPal emulator did not start") from None
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smes", type=int, default=100_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="payout-run-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interkanect.settings")
    # A notice per SME: built and dropped, not printed (the console backend would print 100,000 e-mails).
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    # $6 each: a full batch of 15,000 stays under the emulator's 100,000.00 a batch (INSUFFICIENT_FUNDS above).
    os.environ["PAYOUT_MINIMUM_CENTS"] = "500"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Sum

    from payouts.models import LedgerEntry, PayoutItem
    from tests.payouts.payout_support import bulk_smes

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    for offset in range(0, args.smes, 20_000):
        bulk_smes(min(20_000, args.smes - offset), cents=600, prefix=f"bench{offset}-")
    print(f"setup: {args.smes:,} SMEs with PayPal and a balance in {time.monotonic() - started:.1f} s")

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PAYPAL_API_BASE_URL": url, "PAYPAL_WEB_BASE_URL": url, "PAYPAL_TIMEOUT_SECONDS": "60"}
    emulator = subprocess.Popen(
        [sys.executable, "manage.py", "paypal_emulator", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(url, emulator)
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "manage.py", "run_payouts", "--date", PAYDAY, "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child: the run
        if run.returncode != 0:
            raise SystemExit(f"run_payouts failed:\n{run.stdout}\n{run.stderr}")
        with urllib.request.urlopen(url + "/_emulator/payouts/sender-item-ids", timeout=60) as answer:  # noqa: S310
            counts = json.loads(answer.read())
    finally:
        emulator.terminate()
        emulator.wait(10)

    twice = sum(1 for n in counts.values() if n > 1)
    items = PayoutItem.objects.count()
    left = LedgerEntry.objects.aggregate(total=Sum("amount_cents"))["total"]
    print(run.stdout.strip())
    print(f"payout run: {items:,} SMEs paid in {wall:.1f} s wall, peak memory {peak_mb:.0f} MB (run process)")
    print(f"PayPal received {len(counts):,} sender_item_ids, {twice} more than once; ledger total left {left} cents")
    print(f"target: under 60 s and under 300 MB -> {'met' if wall < 60 and peak_mb < 300 else 'NOT met'}")
    if twice or items != args.smes or left != 0 or len(counts) != args.smes:
        raise SystemExit("invariants violated")


if __name__ == "__main__":
    main()
