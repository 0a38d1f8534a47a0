"""Print the current authenticator code for the published demo secret (demo accounts only)."""

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from schoolgate.schools.demo_data import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo accounts' shared, published secret."

    def handle(self, *args, **options):
        # Knows only the public demo secret, never a real user's: it cannot open a real account.
        self.stdout.write(format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(time.time()) // 30)))
