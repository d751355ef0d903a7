"""Pay every eligible SME on a payout day (cron, daily): nothing new on other days; safe to repeat or run twice."""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payouts import runs
from payouts.calendar import next_payout_day
from payouts.models import PayoutRun
from payouts.selectors import payout_lines
from payouts.templatetags.money import money


class Command(BaseCommand):
    help = (
        "On a payout day (today in PAYOUT_TIME_ZONE, or --date), pay every SME with PayPal linked, no hold and a "
        "balance of at least PAYOUT_MINIMUM_CENTS their whole balance by PayPal payout batches; then sync statuses. "
        "Running it again, twice at once, or after a crash pays nobody twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="Run this payout date instead of today's.")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be paid; change nothing.")

    def handle(self, *args, date: str | None = None, dry_run: bool = False, **options):
        progress = self.stdout.write if options["verbosity"] >= 1 else runs.quiet
        day = self._date(date) if date else runs.payout_today()
        if not runs.is_payout_day(day):
            if date:
                raise CommandError(f"{day.isoformat()} is not a payout day; the next is {next_payout_day(day).date}.")
            self.stdout.write(
                f"{day.isoformat()} ({settings.PAYOUT_TIME_ZONE}) is not a payout day; "
                f"the next is {next_payout_day(day).date}. Nothing to pay."
            )
            if not dry_run:
                # Batches a crash or a PayPal outage left unsent are owed already: send them, nothing new.
                report = runs.payout_runs_send(progress=progress)
                self._errors(report.errors)
            return
        if dry_run:
            return self._dry_run(day)
        report = runs.payout_run(payout_date=day, progress=progress)
        what = "Created" if report.created else "Already created:"
        totals = ", ".join(money(cents, currency) for currency, cents in sorted(report.totals.items())) or "nothing"
        self.stdout.write(f"{what} the payout run of {day.isoformat()}: {report.items} items, {totals}.")
        self._errors(report.errors)

    def _errors(self, errors: list[str]) -> None:
        for error in errors:
            self.stderr.write(error)
        if errors:
            raise CommandError(f"{len(errors)} problem(s) above; run the command again later: nobody is paid twice.")

    def _dry_run(self, day: date) -> None:
        if PayoutRun.objects.filter(payout_date=day).exists():
            self.stdout.write(f"The payout run of {day.isoformat()} exists already; a run would only finish it.")
            return
        count, totals = 0, {}
        for line in payout_lines():
            count += 1
            totals[line.currency] = totals.get(line.currency, 0) + line.amount_cents
            self.stdout.write(f"SME {line.account_id}: {money(line.amount_cents, line.currency)} to {line.receiver}")
        summary = ", ".join(money(cents, currency) for currency, cents in sorted(totals.items())) or "nothing"
        self.stdout.write(f"Dry run for {day.isoformat()}: would pay {count} SMEs {summary}. Nothing was changed.")

    @staticmethod
    def _date(value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--date {value!r} is not a date: write it as YYYY-MM-DD.") from None
