"""The offensive-language model says which it is, and the screen command prints that name."""

from __future__ import annotations

import io

from django.core.management import call_command

from schoolgate.screening import offensive
from schoolgate.screening.management.commands.screen import Command
from schoolgate.testing import make_school


def test_it_names_the_shipped_model_with_a_version():
    name, _, version = offensive.shipped_model().name.rpartition(" ")
    assert name and version


def test_it_prints_the_model_name_on_standard_error_only(db):
    make_school(slug="oakfield")
    out, err = io.StringIO(), io.StringIO()
    call_command(Command(), school="oakfield", stdin=io.StringIO('{"id": 1, "text": "hi"}\n'), stdout=out, stderr=err)
    assert offensive.shipped_model().name in err.getvalue()
    assert out.getvalue().count("\n") == 1 and "model" not in out.getvalue()
