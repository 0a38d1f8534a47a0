"""Reading and checking pupil and contact CSV exports from a school's information system (no database writes)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

PUPILS = "pupils"
CONTACTS = "contacts"
DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
SNIFF_LINES = 50


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    aliases: tuple[str, ...]  # header names seen in SIMS, Arbor and Bromcom exports, best first
    required: bool = False
    max_length: int = 100
    kind: str = "text"  # text, upn, date, email, yes_no


PUPIL_FIELDS = (
    Field("upn", "UPN or admission number", ("UPN", "Adno", "Admission Number", "Admission No"), True, 20, "upn"),
    Field(
        "legal_forename",
        "Legal forename",
        ("Legal Forename", "Legal First Name", "Forename", "First Name", "Given Name"),
        True,
    ),
    Field("legal_surname", "Legal surname", ("Legal Surname", "Legal Last Name", "Surname", "Last Name"), True),
    Field(
        "preferred_forename",
        "Preferred forename",
        ("Preferred Forename", "Preferred First Name", "Known As", "Chosen Forename"),
    ),
    Field("preferred_surname", "Preferred surname", ("Preferred Surname", "Preferred Last Name", "Chosen Surname")),
    Field("date_of_birth", "Date of birth", ("DOB", "Date of Birth", "Birth Date"), kind="date"),
    Field("year_group", "Year group", ("Year Group", "Year", "NC Year", "Curriculum Year"), max_length=20),
    Field(
        "registration_group",
        "Registration group",
        ("Reg Group", "Registration Group", "Form", "Reg", "Tutor Group", "Registration Form", "Class"),
        max_length=40,
    ),
    Field("leaving_date", "Leaving date", ("Leaving Date", "Date of Leaving", "Leave Date", "Left Date"), kind="date"),
)

CONTACT_FIELDS = (
    Field("full_name", "Contact name", ("Contact Name", "Name", "Contact Full Name", "Full Name"), max_length=200),
    # Some exports split the contact's name; the two are joined when there is no single name column.
    Field("forename", "Contact forename", ("Contact Forename", "Contact First Name"), max_length=100),
    Field("surname", "Contact surname", ("Contact Surname", "Contact Last Name"), max_length=100),
    Field("relationship", "Relationship", ("Relationship", "Relationship to Pupil", "Relation"), max_length=60),
    Field(
        "parental_responsibility",
        "Parental responsibility",
        ("Parental Responsibility", "Has Parental Responsibility", "PR"),
        kind="yes_no",
    ),
    Field("email", "Email", ("Email", "Email Address", "Contact Email", "E-mail"), max_length=254, kind="email"),
    Field(
        "phone",
        "Phone",
        ("Telephone", "Phone", "Mobile", "Mobile Phone", "Telephone Number", "Contact Telephone"),
        max_length=40,
    ),
    Field(
        "pupil_upn",
        "Linked pupil (UPN or admission number)",
        ("Pupil UPN", "Linked Pupil", "UPN", "Pupil Adno", "Adno", "Admission Number", "Student UPN"),
        True,
        20,
        "upn",
    ),
)

FIELDS = {PUPILS: PUPIL_FIELDS, CONTACTS: CONTACT_FIELDS}
YES = {"y", "yes", "true", "1"}
NO = {"n", "no", "false", "0", ""}
_DATE = re.compile(r"^(\d{1,4})([/\-.])(\d{1,2})\2(\d{1,4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None  # as numbered in the file, the header being line 1
    column: str = ""

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line else []
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        return cls(message=data["message"], line=data.get("line"), column=data.get("column", ""))


@dataclass
class Table:
    """The file as rows of cells, each with the line it starts on."""

    encoding: str = ""
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportResult:
    kind: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: dict[str, str]
    rows: list[dict]  # cleaned values by field name, plus "line"
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def fields_for(kind: str) -> tuple[Field, ...]:
    try:
        return FIELDS[kind]
    except KeyError:
        raise ValueError(f"Unknown import kind {kind!r}") from None


def decode(data: bytes) -> tuple[str | None, str, list[Problem]]:
    """The text and the encoding it was in: UTF-8 (with or without BOM) first, then Windows-1252."""
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None, "", [Problem("This is a spreadsheet, not a CSV file: save it as CSV and upload that.")]
    if b"\x00" in data[:4096]:
        # UTF-16 is what Excel writes for "Unicode text"; it is not one of the encodings we accept.
        return None, "", [Problem("The file is not plain text (it may be UTF-16 or binary): save it as CSV UTF-8.")]
    try:
        return data.decode("utf-8-sig"), "UTF-8", []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252", []
    except UnicodeDecodeError as error:
        return (
            None,
            "",
            [Problem(f"The file is neither UTF-8 nor Windows-1252 text (byte {error.start + 1} is not a character).")],
        )


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:SNIFF_LINES])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _numbered_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1  # a quoted cell may span lines; the next row starts after it


def read_table(data: bytes) -> Table:
    text, encoding, problems = decode(data)
    if text is None:
        return Table(problems=problems)
    return read_text(text, encoding=encoding)


def read_text(text: str, *, encoding: str) -> Table:
    """Split decoded text into a header and numbered rows, noting rows that do not fit the header."""
    table = Table(encoding=encoding, delimiter=sniff_delimiter(text))
    try:
        rows = [(line, [cell.strip() for cell in cells]) for line, cells in _numbered_rows(text, table.delimiter)]
    except csv.Error as error:
        table.problems.append(Problem(f"The file could not be read as CSV: {error}."))
        return table
    rows = [(line, cells) for line, cells in rows if any(cells)]
    if not rows:
        table.problems.append(Problem("The file is empty: it needs a header row and a row per record."))
        return table
    header_line, headers = rows[0]
    stray = [DELIMITER_NAMES[d] for d in ";\t|" if d != table.delimiter and any(d in h for h in headers)]
    if len(headers) == 1 and "," in headers[0] and table.delimiter != ",":
        stray.append("comma")
    if stray:
        table.problems.append(
            Problem(
                f"The columns are not separated consistently: read with {DELIMITER_NAMES[table.delimiter]}s, the "
                f"header row has {len(headers)} column(s), including {', '.join(stray)} characters inside "
                f"('{next(h for h in headers if any(d in h for d in DELIMITERS))}'). Save the file again as CSV "
                "(comma-separated) from the spreadsheet or the information system.",
                line=header_line,
            )
        )
        return table  # without headers: nothing further can be said about the columns
    table.headers = headers
    seen: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        if not header:
            continue
        if header.casefold() in seen:
            table.problems.append(
                Problem(f"Two columns are called '{header}' (columns {seen[header.casefold()]} and {position}).", 1)
            )
        seen.setdefault(header.casefold(), position)
    for line, cells in rows[1:]:
        if len(cells) > len(headers) and any(cells[len(headers) :]):
            table.problems.append(
                Problem(
                    f"has {len(cells)} values but the header has {len(headers)} columns "
                    "(a value containing the separator should be in quotes).",
                    line=line,
                )
            )
            continue
        table.rows.append((line, (cells + [""] * len(headers))[: len(headers)]))
    return table


def _normal(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def suggest_mapping(kind: str, headers: Iterable[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """A header for each field: the remembered one if this file has it, else the first alias the file has."""
    by_normal = {}
    for header in headers:
        if header:
            by_normal.setdefault(_normal(header), header)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for spec in fields_for(kind):
        remembered_header = (remembered or {}).get(spec.name)
        if remembered_header and _normal(remembered_header) in by_normal:
            mapping[spec.name] = by_normal[_normal(remembered_header)]
            used.add(mapping[spec.name])
    for spec in fields_for(kind):
        if spec.name in mapping:
            continue
        for alias in spec.aliases:
            header = by_normal.get(_normal(alias))
            # One header fills one field by suggestion ("Surname" is the legal surname, not the preferred one).
            if header and header not in used:
                mapping[spec.name] = header
                used.add(header)
                break
    return mapping


def parse_date(value: str, *, today: dt.date) -> dt.date:
    """dd/mm/yyyy (UK, SIMS' default), yyyy-mm-dd, dd-mm-yyyy and d/m/yy; ValueError otherwise."""
    match = _DATE.match(value)
    if not match:
        raise ValueError(value)
    first, _, month, last = match.groups()
    if len(first) == 4:
        year, day = int(first), int(last)
    elif len(last) in (2, 4):
        day, year = int(first), int(last)
        if len(last) == 2:
            # Two-digit years: the most recent year ending so, never more than a year ahead.
            year += 2000 if 2000 + year <= today.year + 1 else 1900
    else:
        raise ValueError(value)
    return dt.date(year, int(month), day)


def _clean(spec: Field, raw: str, *, line: int, column: str, today: dt.date, problems: list[Problem]):
    value = " ".join(raw.split())
    if spec.required and not value:
        problems.append(Problem(f"{spec.label} is missing.", line, column))
        return None
    if spec.kind == "date":
        if not value:
            return None
        try:
            date = parse_date(value, today=today)
        except ValueError:
            problems.append(Problem(f"'{value}' is not a date (expected dd/mm/yyyy).", line, column))
            return None
        if spec.name == "date_of_birth" and date > today:
            problems.append(Problem(f"'{value}' is in the future.", line, column))
        return date
    if spec.kind == "yes_no":
        if value.casefold() in YES:
            return True
        if value.casefold() in NO:
            return False
        problems.append(Problem(f"'{value}' is not yes or no (expected Y or N).", line, column))
        return False
    if len(value) > spec.max_length:
        problems.append(Problem(f"is {len(value)} characters long; at most {spec.max_length} fit.", line, column))
    if spec.kind == "upn":
        return value.upper()
    if spec.kind == "email" and value:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError:
            problems.append(Problem(f"'{value}' is not an email address.", line, column))
    return value


def _lower(label: str) -> str:
    return label if label[:3].isupper() else label[0].lower() + label[1:]


def check_mapping(kind: str, headers: list[str], mapping: dict[str, str]) -> list[Problem]:
    """Every required field has a column, and every chosen column is in the file."""
    problems = []
    present = set(headers)
    for spec in fields_for(kind):
        header = mapping.get(spec.name)
        if header and header not in present:
            problems.append(Problem(f"The file has no column '{header}' for {_lower(spec.label)}."))
        elif spec.required and not header:
            problems.append(
                Problem(
                    f"No column for {_lower(spec.label)} (looked for {', '.join(repr(a) for a in spec.aliases)}). "
                    f"Columns in the file: {', '.join(repr(h) for h in headers if h)}."
                )
            )
    if kind == CONTACTS and not mapping.get("full_name") and not (mapping.get("forename") and mapping.get("surname")):
        problems.append(
            Problem(
                "No column for the contact's name: choose a name column, or both a forename and a surname column. "
                f"Columns in the file: {', '.join(repr(h) for h in headers if h)}."
            )
        )
    return problems


def validate_table(
    kind: str,
    table: Table,
    mapping: dict[str, str],
    *,
    known_upns: Iterable[str] = (),
    today: dt.date,
    progress=None,
) -> ImportResult:
    """Clean every row and list every problem by line and column; rows are only usable when there are none.

    `known_upns` are the school's pupils, for contacts; `progress(done)` is called every 200 rows.
    """
    mapping = {name: header for name, header in mapping.items() if header}
    result = ImportResult(kind, table.encoding, table.delimiter, table.headers, mapping, [], list(table.problems))
    if not table.headers:
        return result
    result.problems += check_mapping(kind, table.headers, mapping)
    if any(p.line is None for p in result.problems) or (table.problems and not table.rows):
        return result
    if not table.rows:
        result.problems.append(Problem("The file has a header row but no records."))
        return result
    position = {header: index for index, header in enumerate(table.headers)}
    columns = [
        (spec, mapping[spec.name], position[mapping[spec.name]]) for spec in fields_for(kind) if spec.name in mapping
    ]
    known = {upn.upper() for upn in known_upns}
    first_line: dict = {}
    for count, (line, cells) in enumerate(table.rows, start=1):
        row: dict = {"line": line}
        for spec, header, index in columns:
            row[spec.name] = _clean(spec, cells[index], line=line, column=header, today=today, problems=result.problems)
        if kind == PUPILS:
            _check_pupil(row, first_line, mapping, result.problems)
        else:
            _check_contact(row, first_line, mapping, known, result.problems)
        result.rows.append(row)
        if progress and count % 200 == 0:
            progress(count)
    return result


def _check_pupil(row: dict, first_line: dict, mapping: dict, problems: list[Problem]) -> None:
    upn = row.get("upn")
    if not upn:
        return
    if upn in first_line:
        problems.append(
            Problem(
                f"UPN '{upn}' is also on line {first_line[upn]}; each pupil must appear once.",
                row["line"],
                mapping["upn"],
            )
        )
    else:
        first_line[upn] = row["line"]
    if row.get("date_of_birth") and row.get("leaving_date") and row["leaving_date"] < row["date_of_birth"]:
        problems.append(Problem("The leaving date is before the date of birth.", row["line"], mapping["leaving_date"]))


def contact_name(row: dict) -> str:
    return row.get("full_name") or " ".join(part for part in (row.get("forename"), row.get("surname")) if part)


def contact_key(name: str, email: str, phone: str) -> tuple[str, str]:
    """Who a contact is across imports: their name with their email, or with their phone when no email."""
    return (" ".join(name.casefold().split()), email.casefold() if email else re.sub(r"\D", "", phone))


def _check_contact(row: dict, first_line: dict, mapping: dict, known: set[str], problems: list[Problem]) -> None:
    name = contact_name(row)
    name_column = mapping.get("full_name") or mapping.get("surname") or mapping.get("forename", "")
    if not name:
        problems.append(Problem("The contact's name is missing.", row["line"], name_column))
    elif len(name) > 200:
        problems.append(Problem("The contact's name is longer than 200 characters.", row["line"], name_column))
    row["name"] = name
    upn = row.get("pupil_upn")
    if not upn:
        return
    if upn not in known:
        problems.append(
            Problem(
                f"no pupil with UPN '{upn}' at the school; import the pupil file first.",
                row["line"],
                mapping["pupil_upn"],
            )
        )
    if name:
        link = (contact_key(name, row.get("email") or "", row.get("phone") or ""), upn)
        if link in first_line:
            problems.append(
                Problem(f"the same contact and pupil are on line {first_line[link]}.", row["line"], name_column)
            )
        else:
            first_line[link] = row["line"]


def parse(
    kind: str,
    data: bytes,
    mapping: dict[str, str] | None = None,
    *,
    remembered: dict[str, str] | None = None,
    known_upns: Iterable[str] = (),
    today: dt.date,
) -> ImportResult:
    """Decode, split, map and check a whole export in one call."""
    table = read_table(data)
    if mapping is None:
        mapping = suggest_mapping(kind, table.headers, remembered)
    return validate_table(kind, table, mapping, known_upns=known_upns, today=today)
