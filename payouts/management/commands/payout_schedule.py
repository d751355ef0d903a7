"""Print the payout days in a date range, one a line, each starting with the ISO date."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from payouts.calendar import payout_days_between

MAX_SPAN_DAYS = 366 * 100


def _iso_date(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{flag} {value!r} is not a date: write it as YYYY-MM-DD, for example 2027-01-01.") from None


class Command(BaseCommand):
    help = "List the payout days from --from to --to (both included), one a line: the ISO date, then why it moved."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")

    def handle(self, *args, start: str, end: str, **options):
        first, last = _iso_date(start, "--from"), _iso_date(end, "--to")
        if first > last:
            raise CommandError(f"--from {first} is after --to {last}: swap them.")
        if (last - first).days > MAX_SPAN_DAYS:
            raise CommandError("Ask for at most a hundred years at a time.")
        for day in payout_days_between(first, last):
            self.stdout.write(str(day))
