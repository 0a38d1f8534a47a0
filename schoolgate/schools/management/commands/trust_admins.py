"""Create a trust and appoint or remove its administrators (for the people who host Schoolgate; audited)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from schoolgate.accounts.models import User
from schoolgate.schools import actions
from schoolgate.schools.models import Trust


class Command(BaseCommand):
    help = (
        "Show a trust's administrators, who hold rights at every school of the trust; with --add or --remove, "
        "appoint or remove them (--create makes the trust first). Every change is in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("trust", help="the trust's name")
        parser.add_argument("--create", action="store_true", help="create the trust if there is none by that name")
        parser.add_argument("--add", action="append", default=[], metavar="EMAIL", help="appoint this person")
        parser.add_argument("--remove", action="append", default=[], metavar="EMAIL", help="remove this person")
        parser.add_argument("--by", required=True, help="email of the superuser doing this")

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with email {email}. Add them to a school first, or create them.")
        return user

    def handle(self, *args, **options):
        by = self._user(options["by"])
        try:
            trust = Trust.objects.filter(name=options["trust"]).first()
            if trust is None and options["create"]:
                trust = actions.create_trust(by=by, name=options["trust"])
                self.stdout.write(f"Created the trust {trust.name}.")
            if trust is None:
                raise CommandError(f"No trust named {options['trust']!r} (use --create to make it).")
            for email in options["add"]:
                if actions.appoint_trust_admin(trust, by=by, user=self._user(email)):
                    self.stdout.write(f"Appointed {email}.")
            for email in options["remove"]:
                if actions.remove_trust_admin(trust, by=by, user=self._user(email)):
                    self.stdout.write(f"Removed {email}.")
        except (PermissionDenied, ValidationError) as error:
            raise CommandError("; ".join(getattr(error, "messages", [str(error)]))) from error
        admins = ", ".join(trust.admins.order_by("email").values_list("email", flat=True)) or "none"
        self.stdout.write(self.style.SUCCESS(f"Administrators of {trust.name}: {admins}"))
