"""Periodic: expire consultations never held in time, complete live ones whose room emptied after the end,
send the "about to start" e-mails, settle payments PayPal held or did not answer, and send refunds."""

from django.core.management.base import BaseCommand

from sessions_app.services import (
    consultations_complete_due,
    consultations_expire_due,
    consultations_remind_due,
    payments_resolve_due,
    refunds_send_due,
)


class Command(BaseCommand):
    help = (
        "Expire stale consultations, complete finished ones, send 'about to start' e-mails, settle payments "
        "PayPal held for review and send refunds until PayPal answers. Run it every few minutes (cron, systemd timer)."
    )

    def handle(self, *args, **options):
        expired = consultations_expire_due()  # before refunds: a paid one that expires is refunded in this run
        completed = consultations_complete_due()
        reminded = consultations_remind_due()
        payments = payments_resolve_due()
        refunds = refunds_send_due()
        self.stdout.write(
            f"expired {expired}, completed {completed}, reminded {reminded}, "
            f"payments settled {payments}, refunds completed {refunds}"
        )
