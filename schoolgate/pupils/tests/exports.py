"""Generated CSV exports shaped like a school information system's, for tests and the bench."""

from __future__ import annotations

import csv
import io
import random

FORENAMES = ["Zoë", "Siân", "Amelia", "Oliver", "Isla", "Noah", "Aoife", "Jake", "Chloé", "Mohammed", "Niamh", "Leo"]
SURNAMES = ["Jones", "O'Brien", "Smith", "Ó Briain", "Patel", "Williams", "Nowak", "Evans", "Brown", "Khan"]
SIMS_PUPIL_HEADERS = ["UPN", "Legal Forename", "Legal Surname", "Preferred Forename", "DOB", "Year", "Reg Group"]
SIMS_CONTACT_HEADERS = ["Contact Name", "Relationship", "Parental Responsibility", "Email", "Telephone", "Pupil UPN"]


def upn(number: int) -> str:
    return f"A{number:012d}"


def to_csv(headers: list[str], rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def pupil_rows(count: int, *, seed: int = 1, start: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for number in range(start, start + count):
        year = rng.randint(7, 11)
        rows.append(
            [
                upn(number),
                rng.choice(FORENAMES),
                rng.choice(SURNAMES),
                rng.choice(["", "", "Jo", "Sam"]),
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{2021 - year - 5}",
                f"Year {year}",
                f"{year}{rng.choice('ABCD')}",
            ]
        )
    return rows


def contact_rows(pupil_count: int, *, per_pupil: int = 2, seed: int = 2) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for number in range(1, pupil_count + 1):
        surname = rng.choice(SURNAMES)
        for index, relationship in enumerate(["Mother", "Father", "Carer"][:per_pupil]):
            name = f"{rng.choice(FORENAMES)} {surname}"
            rows.append(
                [
                    name,
                    relationship,
                    rng.choice(["Y", "Yes", "N"]),
                    f"contact{number}-{index}@example.org",
                    f"07700 9{number:05d}",
                    upn(number),
                ]
            )
    return rows
