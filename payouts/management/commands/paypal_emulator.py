"""`manage.py paypal_emulator`: run the PayPal emulator alone (development only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payouts.paypal.emulator import PayPalEmulator


class Command(BaseCommand):
    help = "Run the PayPal emulator on 127.0.0.1 (development and tests only; refuses when DEBUG is off)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="Default: settings.PAYPAL_EMULATOR_PORT.")

    def handle(self, *args, port=None, **options):
        if not settings.DEBUG:
            raise CommandError(
                "The PayPal emulator never runs in production (DJANGO_DEBUG=0): set PAYPAL_CLIENT_ID and "
                "PAYPAL_CLIENT_SECRET to use PayPal."
            )
        emulator = PayPalEmulator(
            port=port or settings.PAYPAL_EMULATOR_PORT,
            client_id=settings.PAYPAL_CLIENT_ID,
            client_secret=settings.PAYPAL_CLIENT_SECRET,
        )
        try:
            emulator.serve()
        except OSError as exc:
            raise CommandError(f"The PayPal emulator cannot listen on 127.0.0.1:{emulator.port}: {exc}") from exc
        self.stdout.write(f"PayPal emulator on {emulator.url}/ (no money moves; Ctrl-C stops it)")
        if not settings.PAYPAL_EMULATED:
            self.stdout.write("Note: PAYPAL_CLIENT_ID is set, so the app talks to PayPal, not to this emulator.")
        try:
            emulator.serve_forever_started()
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
