"""Fixtures for imports: run a file through check, confirmation and the (inline) job."""

from __future__ import annotations

import pytest

from schoolgate.pupils import actions
from schoolgate.pupils.models import ImportStatus


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
