"""Reading and checking pupil and contact CSV exports from a school's information system (no database writes).

A file is read as a stream, a row at a time: an export is never held in memory whole, decoded, or as one
object per row. What crosses rows (UPNs seen, names and birthdays for duplicates) is kept as small keys.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from schoolgate.pupils import year_groups

# The file layer lives in csv_files; its names stay importable from here for callers of the import as a whole.
from schoolgate.pupils.csv_files import (  # noqa: F401 - re-exported
    CONTROL_CHARACTERS,
    DELIMITER_NAMES,
    DELIMITERS,
    Problem,
    Table,
    detect_encoding,
    open_table,
    read_table,
    shown,
    sniff_delimiter,
)

PUPILS = "pupils"
CONTACTS = "contacts"
# A bad file can have a problem on every line; past this many, only the count is kept.
MAX_PROBLEMS = 1000


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


@dataclass
class ImportResult:
    kind: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: dict[str, str]
    rows: list[dict]  # cleaned values by field name, plus "line"
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def fields_for(kind: str) -> tuple[Field, ...]:
    try:
        return FIELDS[kind]
    except KeyError:
        raise ValueError(f"Unknown import kind {kind!r}") from None


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


def person_key(forename: str, surname: str) -> str:
    """A name as compared for duplicates: accents, case, punctuation and spacing ignored ("Siân" is "Sian")."""
    text = unicodedata.normalize("NFKD", f"{forename} {surname}")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"['’`.]", "", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def person_hash(forename: str, surname: str, born: dt.date) -> int:
    """A small key for a name and birthday, so that a long file's pupils are remembered in little memory."""
    return hash((person_key(forename, surname), born.toordinal()))


def _clean(spec: Field, raw: str, *, line: int, column: str, today: dt.date, problems: Callable):
    value = " ".join(raw.split())
    if CONTROL_CHARACTERS.search(value):
        problems(Problem(f"'{shown(value)}' contains characters that are not text.", line, column))
        return None
    if spec.required and not value:
        problems(Problem(f"{spec.label} is missing.", line, column))
        return None
    if spec.kind == "date":
        if not value:
            return None
        try:
            date = parse_date(value, today=today)
        except ValueError:
            problems(Problem(f"'{shown(value)}' is not a date (expected dd/mm/yyyy).", line, column))
            return None
        if spec.name == "date_of_birth" and date > today:
            problems(Problem(f"'{value}' is in the future.", line, column))
        return date
    if spec.kind == "yes_no":
        if value.casefold() in YES:
            return True
        if value.casefold() in NO:
            return False
        problems(Problem(f"'{shown(value)}' is not yes or no (expected Y or N).", line, column))
        return False
    if len(value) > spec.max_length:
        problems(Problem(f"is {len(value)} characters long; at most {spec.max_length} fit.", line, column))
        return value[: spec.max_length]
    if spec.kind == "upn":
        return value.upper()
    if spec.kind == "email" and value:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError:
            problems(Problem(f"'{shown(value)}' is not an email address.", line, column))
    if spec.name == "year_group" and value:
        year = year_groups.canonical(value)
        if year is None:
            problems(
                Problem(
                    f"'{shown(value)}' is not a year group Schoolgate recognises (it reads {year_groups.EXAMPLES}).",
                    line,
                    column,
                )
            )
            return value
        return year
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


class Checker:
    """Cleans the rows of a table one at a time and lists every problem by line and column.

    1. `start()` checks the columns; when that fails (or the table had no header), there are no rows to check.
    2. `rows()` yields each row cleaned (values by field name, plus "line" and "ok": no problem on it),
       checking it against the rows before it (a UPN twice, a probable duplicate pupil) and the school's
       records passed in (`known_upns` for contacts; `existing_people` for duplicates among pupils).
    3. `finish()` gives the problems (at most MAX_PROBLEMS listed, the rest counted) and the warnings.
    """

    def __init__(
        self,
        kind: str,
        table: Table,
        mapping: dict[str, str],
        *,
        known_upns: Iterable[str] = (),
        existing_people: dict[int, tuple[str, str]] | None = None,
        today: dt.date,
    ):
        self.kind, self.table, self.today = kind, table, today
        self.mapping = {name: header for name, header in mapping.items() if header}
        self.known = {upn.upper() for upn in known_upns}
        self.existing_people = existing_people or {}
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.unlisted = 0
        self.count = 0
        self._first_line: dict = {}
        self._people: dict[int, tuple[int, str]] = {}
        self._reported = 0

    def problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.unlisted += 1

    def _collect_table_problems(self) -> None:
        for problem in self.table.problems[self._reported :]:
            self.problem(problem)
        self._reported = len(self.table.problems)

    def start(self) -> bool:
        self._collect_table_problems()
        if not self.table.headers:
            return False
        for problem in check_mapping(self.kind, self.table.headers, self.mapping):
            self.problem(problem)
        return not any(p.line is None for p in self.problems)

    def rows(self) -> Iterator[dict]:
        position = {header: index for index, header in enumerate(self.table.headers)}
        columns = [
            (spec, self.mapping[spec.name], position[self.mapping[spec.name]])
            for spec in fields_for(self.kind)
            if spec.name in self.mapping
        ]
        for line, cells in self.table.rows():
            self._collect_table_problems()
            before = len(self.problems) + self.unlisted
            row: dict = {"line": line}
            for spec, header, index in columns:
                row[spec.name] = _clean(
                    spec, cells[index], line=line, column=header, today=self.today, problems=self.problem
                )
            if self.kind == PUPILS:
                self._check_pupil(row)
            else:
                self._check_contact(row)
            row["ok"] = len(self.problems) + self.unlisted == before
            self.count += 1
            yield row
        self._collect_table_problems()

    def finish(self) -> tuple[list[Problem], list[Problem]]:
        if self.table.headers and not self.count and not self.problems:
            self.problem(Problem("The file has a header row but no records."))
        problems = list(self.problems)
        if self.unlisted:
            problems.append(Problem(f"…and {self.unlisted:,} more problems like these, not listed."))
        return problems, self.warnings

    def _check_pupil(self, row: dict) -> None:
        upn, mapping = row.get("upn"), self.mapping
        if not upn:
            return
        if upn in self._first_line:
            self.problem(
                Problem(
                    f"UPN '{upn}' is also on line {self._first_line[upn]}; each pupil must appear once.",
                    row["line"],
                    mapping["upn"],
                )
            )
        else:
            self._first_line[upn] = row["line"]
        if row.get("date_of_birth") and row.get("leaving_date") and row["leaving_date"] < row["date_of_birth"]:
            self.problem(Problem("The leaving date is before the date of birth.", row["line"], mapping["leaving_date"]))
        self._check_duplicate_person(row)

    def _check_duplicate_person(self, row: dict) -> None:
        # Same name and birthday under another UPN: usually one child entered twice in the information system.
        born, forename, surname = row.get("date_of_birth"), row.get("legal_forename"), row.get("legal_surname")
        if not (born and forename and surname):
            return
        key = person_hash(forename, surname, born)
        name, upn = f"{forename} {surname}", row["upn"]
        earlier = self._people.get(key)
        if earlier and earlier[1] != upn:
            self.warnings.append(
                Problem(
                    f"{name}, born {born:%-d %B %Y}, is also on line {earlier[0]} under UPN '{earlier[1]}': "
                    "probably the same pupil twice. Check the information system before confirming.",
                    row["line"],
                )
            )
        else:
            self._people.setdefault(key, (row["line"], upn))
        existing = self.existing_people.get(key)
        if existing and existing[0].upper() != upn:
            self.warnings.append(
                Problem(
                    f"{name}, born {born:%-d %B %Y}, may already be here as {existing[1]} (UPN '{existing[0]}'). "
                    "If it is the same pupil, correct the UPN in the information system; otherwise carry on.",
                    row["line"],
                )
            )

    def _check_contact(self, row: dict) -> None:
        mapping = self.mapping
        name = contact_name(row)
        name_column = mapping.get("full_name") or mapping.get("surname") or mapping.get("forename", "")
        if not name:
            self.problem(Problem("The contact's name is missing.", row["line"], name_column))
        elif len(name) > 200:
            self.problem(Problem("The contact's name is longer than 200 characters.", row["line"], name_column))
        row["name"] = name[:200]
        upn = row.get("pupil_upn")
        if not upn:
            return
        if upn not in self.known:
            self.problem(
                Problem(
                    f"no pupil with UPN '{shown(upn)}' at the school; import the pupil file first.",
                    row["line"],
                    mapping["pupil_upn"],
                )
            )
        if name:
            link = (contact_key(name, row.get("email") or "", row.get("phone") or ""), upn)
            if link in self._first_line:
                self.problem(
                    Problem(
                        f"the same contact and pupil are on line {self._first_line[link]}.", row["line"], name_column
                    )
                )
            else:
                self._first_line[link] = row["line"]


def validate_table(
    kind: str,
    table: Table,
    mapping: dict[str, str],
    *,
    known_upns: Iterable[str] = (),
    existing_people: dict | None = None,
    today: dt.date,
) -> ImportResult:
    """Every row cleaned and every problem listed, all in memory: for small files and tests."""
    checker = Checker(kind, table, mapping, known_upns=known_upns, existing_people=existing_people, today=today)
    rows = [{k: v for k, v in row.items() if k != "ok"} for row in checker.rows()] if checker.start() else []
    problems, warnings = checker.finish()
    return ImportResult(kind, table.encoding, table.delimiter, table.headers, checker.mapping, rows, problems, warnings)


def contact_name(row: dict) -> str:
    return row.get("full_name") or " ".join(part for part in (row.get("forename"), row.get("surname")) if part)


def contact_key(name: str, email: str, phone: str) -> tuple[str, str]:
    """Who a contact is across imports: their name with their email, or with their phone when no email."""
    return (" ".join(name.casefold().split()), email.casefold() if email else re.sub(r"\D", "", phone))


def parse(
    kind: str,
    data: bytes,
    mapping: dict[str, str] | None = None,
    *,
    remembered: dict[str, str] | None = None,
    known_upns: Iterable[str] = (),
    existing_people: dict | None = None,
    today: dt.date,
) -> ImportResult:
    """Decode, split, map and check a whole export in one call."""
    table = read_table(data)
    if mapping is None:
        mapping = suggest_mapping(kind, table.headers, remembered)
    return validate_table(kind, table, mapping, known_upns=known_upns, existing_people=existing_people, today=today)
