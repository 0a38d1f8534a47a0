"""Reading and checking exports without a database: encodings, separators, columns, dates, duplicates."""

from __future__ import annotations

import datetime as dt

import pytest

from schoolgate.pupils import imports
from schoolgate.pupils.tests.exports import SIMS_PUPIL_HEADERS, to_csv

TODAY = dt.date(2026, 3, 2)


def messages(result) -> list[str]:
    return [str(problem) for problem in result.problems]


def test_it_reads_windows_1252_and_says_so():
    data = to_csv(SIMS_PUPIL_HEADERS, [["A1", "Zoë", "Jones", "", "01/02/2015", "5", "5B"]], encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert result.ok, messages(result)
    assert result.encoding == "Windows-1252"
    assert result.rows[0]["legal_forename"] == "Zoë"


def test_it_reads_utf8_with_a_byte_order_mark():
    data = "\ufeff".encode() + to_csv(SIMS_PUPIL_HEADERS, [["A1", "Siân", "Jones", "", "2015-02-01", "5", "5B"]])
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert result.ok, messages(result)
    assert result.encoding == "UTF-8"
    assert result.mapping["upn"] == "UPN"  # the BOM is not part of the first header
    assert result.rows[0]["date_of_birth"] == dt.date(2015, 2, 1)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_it_finds_the_separator(delimiter):
    data = to_csv(SIMS_PUPIL_HEADERS, [["A1", "Ann", "Lee, Jr", "", "01-02-2015", "5", "5B"]], delimiter=delimiter)
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert result.ok, messages(result)
    assert result.delimiter == delimiter
    assert result.rows[0]["legal_surname"] == "Lee, Jr"


def test_it_reports_a_wrong_separator_clearly():
    data = b"UPN;Legal Forename;Legal Surname\r\nA1,Ann,Lee\r\n"
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert not result.ok
    assert len(result.problems) == 1
    assert "not separated consistently" in messages(result)[0]
    assert "semicolon" in messages(result)[0]


def test_it_names_missing_columns_and_the_columns_it_found():
    data = b"UPN,Forename\r\nA1,Ann\r\n"
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert messages(result) == [
        "No column for legal surname (looked for 'Legal Surname', 'Legal Last Name', 'Surname', 'Last Name'). "
        "Columns in the file: 'UPN', 'Forename'."
    ]


def test_it_lists_both_lines_of_a_duplicate_upn():
    rows = [
        ["A1", "Ann", "Lee", "", "", "5", ""],
        ["A2", "Bo", "Lee", "", "", "5", ""],
        ["a1", "Cy", "Lee", "", "", "", ""],
    ]
    result = imports.parse(imports.PUPILS, to_csv(SIMS_PUPIL_HEADERS, rows), today=TODAY)
    assert messages(result) == ["line 4, column 'UPN': UPN 'A1' is also on line 2; each pupil must appear once."]


def test_it_reports_a_bad_date_by_line_and_column():
    rows = [[f"A{n}", "Ann", "Lee", "", "01/02/2015", "5", ""] for n in range(12)]  # lines 2 to 13
    rows.append(["A99", "Ann", "Lee", "", "31/02/2015", "5", ""])
    result = imports.parse(imports.PUPILS, to_csv(SIMS_PUPIL_HEADERS, rows), today=TODAY)
    assert messages(result) == ["line 14, column 'DOB': '31/02/2015' is not a date (expected dd/mm/yyyy)."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/09/2015", dt.date(2015, 9, 1)),
        ("2015-09-01", dt.date(2015, 9, 1)),
        ("01-09-2015", dt.date(2015, 9, 1)),
        ("1/9/15", dt.date(2015, 9, 1)),
        ("1/9/99", dt.date(1999, 9, 1)),
        ("01/09/2015 00:00:00", dt.date(2015, 9, 1)),
    ],
)
def test_it_reads_the_date_formats_exports_use(text, expected):
    assert imports.parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["09/31/2015", "2015/13/01", "1st Sept", "01.09"])
def test_it_refuses_what_is_not_a_uk_date(text):
    with pytest.raises(ValueError):
        imports.parse_date(text, today=TODAY)


def test_it_counts_lines_as_in_the_file_when_a_cell_spans_lines():
    data = b'UPN,Forename,Surname\r\nA1,"Ann\r\nMarie",Lee\r\nA2,,Lee\r\n'
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert messages(result) == ["line 4, column 'Forename': Legal forename is missing."]


def test_it_reports_a_row_with_more_values_than_columns():
    data = b"UPN,Forename,Surname\r\nA1,Ann,Lee,Smith\r\n"
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert messages(result)[0].startswith("line 2: has 4 values but the header has 3 columns")


def test_it_suggests_columns_from_sims_arbor_and_bromcom_names():
    arbor = ["Admission No", "First Name", "Last Name", "Preferred First Name", "Date Of Birth", "Year Group", "Form"]
    assert imports.suggest_mapping(imports.PUPILS, arbor) == {
        "upn": "Admission No",
        "legal_forename": "First Name",
        "legal_surname": "Last Name",
        "preferred_forename": "Preferred First Name",
        "date_of_birth": "Date Of Birth",
        "year_group": "Year Group",
        "registration_group": "Form",
    }
    both = ["Forename", "Preferred Forename", "Surname", "Adno"]
    mapping = imports.suggest_mapping(imports.PUPILS, both)
    assert mapping["legal_forename"] == "Forename" and mapping["preferred_forename"] == "Preferred Forename"


def test_it_prefers_the_remembered_column_when_the_file_has_it():
    headers = ["UPN", "Forename", "Known As", "Surname"]
    mapping = imports.suggest_mapping(imports.PUPILS, headers, remembered={"legal_forename": "Known As", "dob": "x"})
    assert mapping["legal_forename"] == "Known As"
    assert (
        imports.suggest_mapping(imports.PUPILS, ["UPN", "Forename"], remembered={"legal_forename": "Gone"})[
            "legal_forename"
        ]
        == "Forename"
    )


def test_it_checks_contacts_yes_no_emails_and_linked_pupils():
    data = (
        b"Contact Name,Relationship,Parental Responsibility,Email,Telephone,Pupil UPN\r\n"
        b"Ann Lee,Mother,Yes,ann@example.org,0123,A1\r\n"
        b"Bo Lee,Father,maybe,bo@,0123,A1\r\n"
        b"Cy Lee,Carer,0,,,A9\r\n"
        b"Ann Lee,Mother,Y,ann@example.org,0123,A1\r\n"
    )
    result = imports.parse(imports.CONTACTS, data, known_upns={"a1"}, today=TODAY)
    assert messages(result) == [
        "line 3, column 'Parental Responsibility': 'maybe' is not yes or no (expected Y or N).",
        "line 3, column 'Email': 'bo@' is not an email address.",
        "line 4, column 'Pupil UPN': no pupil with UPN 'A9' at the school; import the pupil file first.",
        "line 5, column 'Contact Name': the same contact and pupil are on line 2.",
    ]
    assert result.rows[0]["parental_responsibility"] is True


def test_it_joins_a_split_contact_name():
    data = b"Contact Forename,Contact Surname,UPN\r\nAnn,Lee,A1\r\n"
    result = imports.parse(imports.CONTACTS, data, known_upns={"A1"}, today=TODAY)
    assert result.ok, messages(result)
    assert result.rows[0]["name"] == "Ann Lee"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04rest-of-a-zip", "This is a spreadsheet, not a CSV file"),
        ("UPN,Forename\r\n".encode("utf-16"), "The file is not plain text"),
        (b"", "The file is empty"),
    ],
)
def test_it_explains_files_that_are_not_csv_text(data, expected):
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert len(result.problems) == 1
    assert messages(result)[0].startswith(expected)


def test_it_warns_about_a_probable_duplicate_pupil_in_the_file_ignoring_accents_and_case():
    rows = [
        ["A1", "Siân", "Ó Briain", "", "01/02/2015", "Year 5", "5B"],
        ["A2", "Bo", "Lee", "", "01/02/2015", "Year 5", "5B"],
        ["A3", "SIAN", "o briain", "", "01/02/2015", "Year 5", "5A"],  # the same child under another UPN
        ["A4", "Sian", "O Briain", "", "02/02/2015", "Year 5", "5A"],  # another birthday: another child
    ]
    result = imports.parse(imports.PUPILS, to_csv(SIMS_PUPIL_HEADERS, rows), today=TODAY)
    assert result.ok, messages(result)  # a warning does not stop the import
    assert [str(w) for w in result.warnings] == [
        "line 4: SIAN o briain, born 1 February 2015, is also on line 2 under UPN 'A1': probably the same pupil "
        "twice. Check the information system before confirming."
    ]


def test_it_warns_about_a_probable_duplicate_of_a_pupil_already_here_but_not_about_the_same_pupil():
    here = {imports.person_hash("Zoë", "Jones", dt.date(2015, 2, 1)): ("A1", "Zoë Jones")}
    rows = [["A1", "Zoe", "Jones", "", "01/02/2015", "5", ""], ["B9", "zoe", "JONES", "", "01/02/2015", "5", ""]]
    result = imports.parse(imports.PUPILS, to_csv(SIMS_PUPIL_HEADERS, rows), existing_people=here, today=TODAY)
    assert [w.line for w in result.warnings] == [3, 3]  # in the file (line 2) and already here (A1)
    assert "may already be here as Zoë Jones (UPN 'A1')" in str(result.warnings[1])


def test_it_refuses_characters_that_are_not_text_rather_than_storing_them():
    # Past the first 4 KB (where a NUL means UTF-16 or a binary file), as a damaged export might have them.
    padding = b"".join(b"P%d,Pat,Lee\r\n" % n for n in range(400))
    data = b"UPN,Forename,Surname\r\n" + padding + b"A1,An\x00n,Lee\r\nA2,Bo\x1b,Lee\r\n"
    result = imports.parse(imports.PUPILS, data, today=TODAY)
    assert messages(result) == [
        "line 402, column 'Forename': 'An\ufffdn' contains characters that are not text.",
        "line 403, column 'Forename': 'Bo\ufffd' contains characters that are not text.",
    ]


def test_it_lists_a_thousand_problems_and_counts_the_rest():
    rows = [[f"A{n}", "", "Lee", "", "", "", ""] for n in range(1500)]
    result = imports.parse(imports.PUPILS, to_csv(SIMS_PUPIL_HEADERS, rows), today=TODAY)
    assert len(result.problems) == imports.MAX_PROBLEMS + 1
    assert str(result.problems[-1]) == "…and 500 more problems like these, not listed."
