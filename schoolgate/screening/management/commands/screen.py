"""`manage.py screen --school SLUG`: screens JSON Lines texts from standard input, one JSON line out per text."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from schoolgate.schools.models import School
from schoolgate.screening.engine import screen
from schoolgate.screening.offensive import shipped_model
from schoolgate.screening.school import roster_for_school, rules_for_school


class Command(BaseCommand):
    help = (
        'Reads {"id": ..., "text": ..., "has_images": false} per line on standard input and writes '
        '{"id": ..., "blocking": bool, "findings": [...]} per line; a bad line gives {"line": n, "error": ...}.'
    )
    stealth_options = ("stdin",)  # tests pass a StringIO through call_command

    def add_arguments(self, parser):
        parser.add_argument("--school", required=True, help="The school's slug: its pupils and current policy.")

    def handle(self, *args, school: str, **options):
        try:
            school_obj = School.objects.get(slug=school)
        except School.DoesNotExist:
            raise CommandError(f"No school with the slug {school!r}.") from None
        roster = roster_for_school(school_obj)
        rules = rules_for_school(school_obj)
        stdin = options.get("stdin") or sys.stdin
        # On standard error, so standard output stays one JSON object per line.
        self.stderr.write(f"offensive-language model: {shipped_model().name}")
        for number, line in enumerate(stdin, start=1):
            if not line.strip():
                continue
            result = screen_line(line, number=number, roster=roster, rules=rules)
            self.stdout.write(json.dumps(result, ensure_ascii=False))


def screen_line(line: str, *, number: int, roster, rules) -> dict:
    """One output object for one input line; an error object rather than an exception for bad input."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        return {"line": number, "id": None, "error": f"Not valid JSON: {error.msg} at column {error.colno}."}
    if not isinstance(item, dict):
        return {"line": number, "id": None, "error": 'Each line must be a JSON object like {"id": 1, "text": "..."}.'}
    item_id = item.get("id")
    text = item.get("text")
    if not isinstance(text, str):
        return {"line": number, "id": item_id, "error": 'Missing "text", or it is not a string.'}
    has_images = item.get("has_images", False)
    if not isinstance(has_images, bool):
        return {"line": number, "id": item_id, "error": '"has_images" must be true or false.'}
    findings = screen(text, roster=roster, rules=rules, has_images=has_images)
    return {
        "id": item_id,
        "blocking": any(f.is_blocking for f in findings),
        "findings": [
            {
                "category": f.category,
                "span": [f.start, f.end],
                "text": f.text,
                "severity": f.severity,
                "clause": f.clause,
                "score": f.score,
                "message": f.message,
            }
            for f in findings
        ],
    }
