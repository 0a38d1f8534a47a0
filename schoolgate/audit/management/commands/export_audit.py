"""Export the audit log for a date range as CSV or JSON, optionally as a given reader may see it."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from schoolgate.audit.exports import day_range, entries_between, export_csv, export_json
from schoolgate.schools.models import School
from schoolgate.schools.permissions import has_permission

User = get_user_model()


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date in the form YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = "Export audit entries from --since to --until (inclusive days) as CSV or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--school", help="a school's slug; all schools when omitted")
        parser.add_argument(
            "--redact-restricted", action="store_true", help="hide the details of restricted (safeguarding) entries"
        )
        parser.add_argument(
            "--redact-pupils", action="store_true", help="hide pupils' and carers' details (names, consent decisions)"
        )
        parser.add_argument(
            "--reader",
            metavar="EMAIL",
            help="export what this member of --school may see (restricted and pupil entries redacted as on the page)",
        )
        parser.add_argument("--output", help="file to write; standard output when omitted")

    def handle(self, *args, **options):
        since, until = _day(options["since"]), _day(options["until"])
        if until < since:
            raise CommandError("--until is before --since")
        school = None
        if options["school"]:
            school = School.objects.filter(slug=options["school"]).first()
            if school is None:
                raise CommandError(f"No school with slug {options['school']!r}")
        try:
            start, end = day_range(since, until)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        show_restricted, show_pupils = not options["redact_restricted"], not options["redact_pupils"]
        if options["reader"]:
            if school is None:
                raise CommandError("--reader needs --school: what a person may see depends on the school")
            reader = User.objects.filter(email__iexact=options["reader"], is_active=True).first()
            if reader is None or not has_permission(reader, school, "audit.view"):
                raise CommandError(f"{options['reader']} may not read the audit log of {school}")
            show_restricted = show_restricted and has_permission(reader, school, "audit.view_restricted")
            show_pupils = show_pupils and has_permission(reader, school, "pupils.view")
        entries = entries_between(start, end, school=school)
        render = export_csv if options["format"] == "csv" else export_json
        text = render(entries, show_restricted=show_restricted, show_pupils=show_pupils)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
