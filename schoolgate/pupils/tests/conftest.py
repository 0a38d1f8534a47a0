"""Fixtures for imports (run a file through check, confirmation and the job) and for consent (a family)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from schoolgate.pupils import actions
from schoolgate.pupils.models import Carer, CarerLink, ImportStatus, Pupil


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    # Uploaded exports go to storage like photos do: a directory of this test's own.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run_import(cast, django_capture_on_commit_callbacks):
    def run(kind, data, *, by=None, mapping=None, mark_missing_as_left=False, filename="export.csv"):
        by = by or cast.head
        checked = actions.validate_import(cast.school, by=by, kind=kind, filename=filename, data=data, mapping=mapping)
        assert checked.status == ImportStatus.VALIDATED, checked.problems
        with django_capture_on_commit_callbacks(execute=True):
            actions.confirm_import(checked, by=by, mark_missing_as_left=mark_missing_as_left)
        checked.refresh_from_db()
        return checked

    return run


@dataclass
class Family:
    amy: Pupil
    ben: Pupil
    pat: Carer  # parent of both, with parental responsibility
    sam: Carer  # Amy's childminder: linked, no parental responsibility
    dan: Pupil  # another family's child
    olga: Carer  # Dan's parent


@pytest.fixture
def family(cast) -> Family:
    school = cast.school
    amy = Pupil.objects.create(
        school=school,
        upn="A1",
        legal_forename="Amy",
        legal_surname="Archer",
        year_group="Year 3",
        registration_group="3A",
    )
    ben = Pupil.objects.create(
        school=school,
        upn="B1",
        legal_forename="Ben",
        legal_surname="Archer",
        year_group="Year 5",
        registration_group="5B",
    )
    dan = Pupil.objects.create(
        school=school,
        upn="D1",
        legal_forename="Dan",
        legal_surname="Dunn",
        year_group="Year 3",
        registration_group="3A",
    )
    pat = Carer.objects.create(school=school, full_name="Pat Archer", email="pat@example.org")
    sam = Carer.objects.create(school=school, full_name="Sam Minder", email="sam@example.org")
    olga = Carer.objects.create(school=school, full_name="Olga Dunn", email="olga@example.org")
    for carer, pupil, pr in [(pat, amy, True), (pat, ben, True), (sam, amy, False), (olga, dan, True)]:
        CarerLink.objects.create(carer=carer, pupil=pupil, parental_responsibility=pr, relationship="Parent")
    return Family(amy=amy, ben=ben, pat=pat, sam=sam, dan=dan, olga=olga)
