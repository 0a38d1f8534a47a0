"""Add a school to this deployment (for the people who host Schoolgate)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from schoolgate.accounts.models import User
from schoolgate.schools.actions import create_school
from schoolgate.schools.models import Trust


class Command(BaseCommand):
    help = "Create a school with its headteacher (and chair of governors) and first policy drafts."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True, help="short address, e.g. st-marys")
        parser.add_argument("--headteacher-email", required=True)
        parser.add_argument("--headteacher-name", required=True)
        parser.add_argument("--chair-email", default="")
        parser.add_argument("--chair-name", default="")
        parser.add_argument("--trust", help="name of the trust the school belongs to")
        parser.add_argument("--by", required=True, help="email of the trust administrator or superuser doing this")

    def handle(self, *args, **options):
        by = User.objects.filter(email__iexact=options["by"]).first()
        if by is None:
            raise CommandError(f"No user with email {options['by']}")
        trust = None
        if options["trust"]:
            trust = Trust.objects.filter(name=options["trust"]).first()
            if trust is None:
                raise CommandError(f"No trust named {options['trust']!r}")
        try:
            school = create_school(
                by=by,
                name=options["name"],
                slug=options["slug"],
                trust=trust,
                headteacher_email=options["headteacher_email"],
                headteacher_name=options["headteacher_name"],
                chair_email=options["chair_email"],
                chair_name=options["chair_name"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {school.name}. The headteacher sets a password with 'Forgotten your password' on the "
                "login page, then writes and approves the first policy version."
            )
        )
