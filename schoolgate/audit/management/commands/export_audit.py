"""Export the audit log for a date range as CSV or JSON."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from schoolgate.audit.exports import entries_between, export_csv, export_json
from schoolgate.schools.models import School


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
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        entries = entries_between(start, end, school=school)
        render = export_csv if options["format"] == "csv" else export_json
        text = render(entries, show_restricted=not options["redact_restricted"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
