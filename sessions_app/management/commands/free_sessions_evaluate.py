"""Periodic: evaluate the free-session policy for every SME who gave a free session in the window."""

from django.core.management.base import BaseCommand

from sessions_app.services import policy_evaluate_due


class Command(BaseCommand):
    help = (
        "Open a review case for each SME over a free-session limit (never more than one open case each). "
        "Safe to repeat; run it daily (cron, systemd timer). Going live evaluates the SME at once too."
    )

    def handle(self, *args, **options):
        evaluated, opened = policy_evaluate_due()
        self.stdout.write(f"evaluated {evaluated} SMEs, opened {opened} review cases")
