"""The `screen` command: JSON Lines in, one JSON line of findings per text out, for one school."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from schoolgate.pupils.models import Pupil
from schoolgate.screening.management.commands.screen import Command
from schoolgate.testing import make_school


def run(slug: str, lines: list[str]) -> list[dict]:
    out = io.StringIO()
    # The command object is passed directly: the package need not be an installed app for this test.
    call_command(Command(), school=slug, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def school(db):
    cast = make_school(slug="oakfield", settings={"pupil_naming_rule": "first_names_only"})
    Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")
    return cast.school


@pytest.mark.clause("AW-PUB-2")
def test_it_screens_each_line_with_the_schools_roster_and_rules(school):
    results = run(
        "oakfield",
        [
            json.dumps({"id": 1, "text": "Well done Amelia Khan!"}),
            json.dumps({"id": 2, "text": "Well done Amelia!"}),
            json.dumps({"id": "p3", "text": "Call 07700 900123"}),
        ],
    )
    assert [r["id"] for r in results] == [1, 2, "p3"]
    first = results[0]["findings"][0]
    assert results[0]["blocking"] is True
    assert first == {
        "category": "pupil_name",
        "span": [10, 21],
        "text": "Amelia Khan",
        "severity": "blocking",
        "clause": "AW-PUB-2",
        "score": None,
        "message": first["message"],
    }
    assert results[1] == {"id": 2, "blocking": False, "findings": []}
    assert results[2]["findings"][0]["category"] == "phone"


@pytest.mark.clause("AW-PUB-2")
def test_it_follows_the_schools_naming_rule(db):
    cast = make_school(slug="strict", settings={"pupil_naming_rule": "no_names"})
    Pupil.objects.create(school=cast.school, upn="B1", legal_forename="Amelia", legal_surname="Khan")
    assert run("strict", [json.dumps({"id": 1, "text": "Well done Amelia!"})])[0]["blocking"] is True


def test_it_reports_bad_lines_and_carries_on(school):
    results = run(
        "oakfield",
        [
            "{not json",
            json.dumps([1, 2]),
            json.dumps({"id": 7}),
            json.dumps({"id": 8, "text": "hi", "has_images": "yes"}),
            json.dumps({"id": 9, "text": "Amelia Khan"}),
        ],
    )
    assert [r.get("line") for r in results[:4]] == [1, 2, 3, 4]
    assert results[0]["error"].startswith("Not valid JSON")
    assert results[2] == {"line": 3, "id": 7, "error": 'Missing "text", or it is not a string.'}
    assert results[3]["id"] == 8 and "has_images" in results[3]["error"]
    assert results[4]["id"] == 9 and results[4]["blocking"] is True


def test_it_refuses_an_unknown_school(db):
    with pytest.raises(CommandError, match="No school"):
        run("nowhere", [])
