"""Periodic: expire consultations never held in time, complete live ones whose room emptied after the end."""

from django.core.management.base import BaseCommand

from sessions_app.services import consultations_complete_due, consultations_expire_due


class Command(BaseCommand):
    help = "Expire stale consultations and complete finished ones. Run it every few minutes (cron, systemd timer)."

    def handle(self, *args, **options):
        expired = consultations_expire_due()
        completed = consultations_complete_due()
        self.stdout.write(f"expired {expired}, completed {completed}")
