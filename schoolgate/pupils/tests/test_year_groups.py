"""Year groups: one canonical name for every way exports write one, school order, and existing rows mended."""

from __future__ import annotations

import datetime as dt
import importlib
import re

import pytest
from django.apps import apps

from schoolgate.pupils import imports, year_groups
from schoolgate.pupils.models import Pupil
from schoolgate.pupils.tests.exports import SIMS_PUPIL_HEADERS, to_csv

TODAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        *[(text, "Reception") for text in ["Reception", "R", "Rec", "YR", "Year R", "yr", " reception "]],
        *[(text, "Nursery") for text in ["Nursery", "N", "Nur", "FS1"]],
        ("N1", "Nursery 1"),
        ("N2", "Nursery 2"),
        *[(text, "Year 4") for text in ["Year 4", "Y4", "Yr 4", "Yr4", "4", "04", "Year 04", "year  4", "NC Year 4"]],
        ("Year 1", "Year 1"),
        ("13", "Year 13"),
        *[(text, "Year 12") for text in ["Year 12", "Y12", "L6", "Lower Sixth", "6L"]],
        *[(text, "Year 13") for text in ["Year 13", "U6", "Upper Sixth"]],
        ("", ""),
    ],
)
def test_it_reads_year_groups_the_way_information_systems_write_them(written, stored):
    assert year_groups.canonical(written) == stored


@pytest.mark.parametrize("written", ["Year 14", "0", "Year 41", "5B", "Yaer 4", "Year 4/5", "KS2"])
def test_it_does_not_guess_at_what_is_not_a_year_group(written):
    assert year_groups.canonical(written) is None


def test_it_orders_year_groups_as_a_school_does():
    names = ["Year 10", "(no year group)", "Reception", "Year 2", "Post-16", "Nursery 2", "Year 13", "Nursery 1"]
    assert sorted(names, key=year_groups.sort_key) == [
        "Nursery 1",
        "Nursery 2",
        "Reception",
        "Year 2",
        "Year 10",
        "Year 13",
        "Post-16",  # not one Schoolgate knows: after the years, never in among them
        "(no year group)",
    ]


def test_it_refuses_an_unknown_year_group_with_a_clear_row_error():
    data = to_csv(SIMS_PUPIL_HEADERS, [["A1", "Ann", "Lee", "", "", "Y4", ""], ["A2", "Bo", "Lee", "", "", "4B", ""]])
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert [str(p) for p in result.problems] == [
        "line 3, column 'Year': '4B' is not a year group Schoolgate recognises (it reads Nursery, N1, N2, "
        "Reception, R, YR, Year 1 to Year 13, Y4, Yr 4, 4, L6 or U6)."
    ]
    assert not re.search(r"\([A-Z]{2}-[A-Z]+-\d\)", str(result.problems[0]))  # no clause codes for people
    assert result.rows[0]["year_group"] == "Year 4"


def test_it_shows_year_4_once_in_consent_coverage_however_the_file_wrote_it(client, cast, run_import):
    Pupil.objects.create(school=cast.school, upn="OLD1", legal_forename="Ola", legal_surname="Old", year_group="Year 4")
    run_import(
        "pupils",
        to_csv(
            SIMS_PUPIL_HEADERS,
            [
                ["OLD1", "Ola", "Old", "", "", "4", ""],
                ["N1", "Ned", "New", "", "", "Y4", ""],
                ["R1", "Rue", "Rec", "", "", "R", ""],
            ],
        ),
    )
    assert set(Pupil.objects.values_list("year_group", flat=True)) == {"Year 4", "Reception"}
    client.force_login(cast.head)
    page = client.get(f"/s/{cast.school.slug}/pupils/consent/").content.decode()
    by_year = page[page.index("By year group") : page.index("By registration group")]
    assert re.findall(r'<th scope="row">([^<]+)</th>', by_year) == ["Reception", "Year 4"]


def test_it_sorts_consent_coverage_in_school_order_with_unknown_and_blank_years_last(client, cast):
    for number, year in enumerate(["Year 10", "", "Post-16", "Reception", "Year 2", "Nursery"]):
        Pupil.objects.create(
            school=cast.school, upn=f"P{number}", legal_forename="P", legal_surname="P", year_group=year
        )
    client.force_login(cast.head)
    page = client.get(f"/s/{cast.school.slug}/pupils/consent/").content.decode()
    by_year = page[page.index("By year group") : page.index("By registration group")]
    assert re.findall(r'<th scope="row">([^<]+)</th>', by_year) == [
        "Nursery",
        "Reception",
        "Year 2",
        "Year 10",
        "Post-16",
        "(no year group)",
    ]


def test_it_canonicalises_year_groups_already_stored(cast):
    values = ["4", "Year 4", "Y4", "R", "Rec", "L6", "Post-16", ""]
    for number, year in enumerate(values):
        Pupil.objects.create(
            school=cast.school, upn=f"P{number}", legal_forename="P", legal_surname="P", year_group=year
        )
    migration = importlib.import_module("schoolgate.pupils.migrations.0004_canonical_year_groups")
    migration.canonical_year_groups(apps, None)
    stored = dict(Pupil.objects.values_list("upn", "year_group"))
    assert [stored[f"P{n}"] for n in range(len(values))] == [
        "Year 4",
        "Year 4",
        "Year 4",
        "Reception",
        "Reception",
        "Year 12",
        "Post-16",  # kept as it was: a migration cannot ask anyone; the next import refuses it
        "",
    ]
