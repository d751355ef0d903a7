"""Create the demo data: accounts for each role and a free consultation between them. Safe to run again."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from interkanect.demo import DEMO_PASSWORD, demo_accounts_ensure, demo_consultation_ensure


class Command(BaseCommand):
    help = "Create the demo SME, client and admin accounts and a free consultation between them. Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            # The demo admin is a superuser whose password README prints: on a production database it would be a
            # published back door.
            raise CommandError(
                "The demo data is for development only and is never created with DJANGO_DEBUG=0: its logins, an "
                "admin among them, have a published password. Create real staff with `manage.py createsuperuser`."
            )
        accounts = demo_accounts_ensure()
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for each: {DEMO_PASSWORD}):"))
        for role, user in accounts.items():
            self.stdout.write(f"  {role:<7} {user.username}")
        consultation = demo_consultation_ensure(sme=accounts["sme"], client=accounts["client"])
        link = settings.SITE_URL + consultation.get_absolute_url()
        self.stdout.write(f"Demo consultation between demo-sme and demo-client (free, room open): {link}")
