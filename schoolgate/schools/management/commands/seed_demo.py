"""Seed the two demo schools (Applebee Wood and The Raleigh School) if they are not there yet."""

from django.core.management.base import BaseCommand

from schoolgate.schools.demo_data import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo


class Command(BaseCommand):
    help = "Create the demo schools, people and policies (does nothing if they exist)."

    def handle(self, *args, **options):
        schools = seed_demo()
        if schools:
            self.stdout.write(self.style.SUCCESS(f"Seeded {', '.join(s.name for s in schools)}."))
        else:
            self.stdout.write("Demo schools already present.")
        self.stdout.write(
            f"\nDemo logins (password for all: {DEMO_PASSWORD})\n"
            "  Applebee Wood: head@applebeewood.example (headteacher), chair@applebeewood.example (chair),\n"
            "                 a.green@applebeewood.example (teacher), dsl@applebeewood.example (DSL)\n"
            "  The Raleigh School: head@raleigh.example (headteacher), chair@raleigh.example (chair),\n"
            "                 b.taylor@raleigh.example (teacher), dsl@raleigh.example (DSL)\n"
            "  Both schools: sam.okafor@governors.example (governor), it@trust.example (trust admin)\n"
            "Headteachers, DSLs, deputies, leaders and trust admins log in with an authenticator code.\n"
            f"The demo accounts share the secret {DEMO_TOTP_SECRET}: add it to an authenticator app,\n"
            "or print the current code with: uv run manage.py demo_totp\n"
        )
