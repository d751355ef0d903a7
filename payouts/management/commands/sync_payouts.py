"""Read every open PayPal payout batch and record its items' statuses (cron, daily; also run by run_payouts)."""

from django.core.management.base import BaseCommand, CommandError

from payouts import runs


class Command(BaseCommand):
    help = (
        "Read every open payout batch from PayPal (paged) and record each item's status: money that came back "
        "is put back on the SME's balance once; items unclaimed for PAYOUT_UNCLAIMED_CANCEL_DAYS are cancelled."
    )

    def handle(self, *args, **options):
        progress = self.stdout.write if options["verbosity"] >= 1 else runs.quiet
        report = runs.payouts_sync(progress=progress)
        self.stdout.write(
            f"Read {report.batches} batches: {report.items_changed} items changed, {report.money_back} came back, "
            f"{report.cancelled} unclaimed cancelled."
        )
        for error in report.errors:
            self.stderr.write(error)
        if report.errors:
            raise CommandError(f"{len(report.errors)} problem(s) above; run the command again later.")
