"""Periodic: expire consultations never held in time, complete live ones whose room emptied after the end,
and send the "about to start" e-mails."""

from django.core.management.base import BaseCommand

from sessions_app.services import consultations_complete_due, consultations_expire_due, consultations_remind_due


class Command(BaseCommand):
    help = (
        "Expire stale consultations, complete finished ones and send 'about to start' e-mails. "
        "Run it every few minutes (cron, systemd timer)."
    )

    def handle(self, *args, **options):
        expired = consultations_expire_due()
        completed = consultations_complete_due()
        reminded = consultations_remind_due()
        self.stdout.write(f"expired {expired}, completed {completed}, reminded {reminded}")
