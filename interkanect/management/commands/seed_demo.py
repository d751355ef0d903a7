"""Create the demo data: accounts for each role and a free consultation between them. Safe to run again."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from interkanect.demo import DEMO_PASSWORD, demo_accounts_ensure, demo_consultation_ensure


class Command(BaseCommand):
    help = "Create the demo SME, client and admin accounts and a free consultation between them. Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        accounts = demo_accounts_ensure()
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for each: {DEMO_PASSWORD}):"))
        for role, user in accounts.items():
            self.stdout.write(f"  {role:<7} {user.username}")
        consultation = demo_consultation_ensure(sme=accounts["sme"], client=accounts["client"])
        link = settings.SITE_URL + consultation.get_absolute_url()
        self.stdout.write(f"Demo consultation between demo-sme and demo-client (free, room open): {link}")
