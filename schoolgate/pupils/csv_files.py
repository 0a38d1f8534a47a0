"""Reading a CSV export as a stream: its encoding, its separator, its header, then its rows a line at a time.

The checks of what the rows say live in `imports.py`; this is only the file, so a broken file is refused with a
plain problem before any row is looked at.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
SNIFF_LINES = 50
SNIFF_CHARS = 64 * 1024
CHUNK = 1024 * 1024


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


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def shown(value: str, limit: int = 60) -> str:
    """A value quoted back to the person: control characters made visible, long values cut."""
    value = CONTROL_CHARACTERS.sub("\N{REPLACEMENT CHARACTER}", value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class Table:
    """The file as a header and a stream of rows, each with the line it starts on.

    `rows()` reads the file once, lazily; problems found while reading (a row too long, a broken quote) are
    appended to `problems` as they are met.
    """

    encoding: str = ""
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    header_line: int = 1
    _reader: Iterator[tuple[int, list[str]]] | None = None
    _source: BinaryIO | None = None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self._reader is None:
            return
        width = len(self.headers)
        try:
            for line, cells in self._reader:
                if not any(cells):
                    continue
                if len(cells) > width and any(cells[width:]):
                    self.problems.append(
                        Problem(
                            f"has {len(cells)} values but the header has {width} columns "
                            "(a value containing the separator should be in quotes).",
                            line=line,
                        )
                    )
                    continue
                yield line, (cells + [""] * width)[:width]
        except csv.Error as error:
            self.problems.append(Problem(f"The file could not be read as CSV: {error}."))
        except UnicodeDecodeError:
            self.problems.append(Problem("The file changed while it was being read; upload it again."))
        finally:
            self._reader = None

    def bytes_read(self) -> int:
        """How far into the file reading has got, for progress bars."""
        try:
            return self._source.tell() if self._source is not None else 0
        except (OSError, ValueError):
            return 0


def detect_encoding(source: BinaryIO) -> tuple[str, list[Problem]]:
    """The codec to read the file with, UTF-8 (with or without BOM) first, then Windows-1252; read in chunks."""
    source.seek(0)
    head = source.read(4096)
    if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "", [Problem("This is a spreadsheet, not a CSV file: save it as CSV and upload that.")]
    if b"\x00" in head:
        # UTF-16 is what Excel writes for "Unicode text"; it is not one of the encodings we accept.
        return "", [Problem("The file is not plain text (it may be UTF-16 or binary): save it as CSV UTF-8.")]
    for codec in ("utf-8-sig", "cp1252"):
        source.seek(0)
        decoder = codecs.getincrementaldecoder(codec)()
        offset = 0
        try:
            while chunk := source.read(CHUNK):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            failed_at = offset + error.start + 1
            continue
        return codec, []
    return "", [Problem(f"The file is neither UTF-8 nor Windows-1252 text (byte {failed_at} is not a character).")]


ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252"}


def sniff_delimiter(sample: str) -> str:
    """The separator that splits the header into most columns and the most lines into as many.

    Not csv.Sniffer: its quote-guessing regular expressions take minutes on some files (a long quoted cell),
    which would tie up a worker; reading each line with each candidate is linear in the sample.
    """
    lines = [line for line in sample.splitlines()[:SNIFF_LINES] if line.strip()]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = []
        for line in lines:
            try:
                counts.append(len(next(csv.reader([line], delimiter=delimiter), [])) - 1)
            except csv.Error:
                counts.append(-1)
        if not counts or counts[0] <= 0:
            continue
        consistent = sum(1 for count in counts if count == counts[0])
        # A separator that splits the header but not most rows is no answer: fall back to commas, and the
        # header check then says plainly that the columns are not separated consistently.
        if consistent * 2 <= len(counts) and len(counts) > 1:
            continue
        if (consistent, counts[0]) > best_score:
            best, best_score = delimiter, (consistent, counts[0])
    return best


def _numbered_rows(text: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(text, delimiter=delimiter)
    start = 1
    for cells in reader:
        yield start, [cell.strip() for cell in cells]
        start = reader.line_num + 1  # a quoted cell may span lines; the next row starts after it


def open_table(source: BinaryIO) -> Table:
    """Find the encoding, separator and header of a seekable binary file; the rows are read later, lazily."""
    codec, problems = detect_encoding(source)
    if not codec:
        return Table(problems=problems)
    source.seek(0)
    text = io.TextIOWrapper(source, encoding=codec, newline="")
    sample = text.read(SNIFF_CHARS)
    text.seek(0)
    table = Table(encoding=ENCODING_NAMES[codec], delimiter=sniff_delimiter(sample), _source=source)
    rows = _numbered_rows(text, table.delimiter)
    try:
        table.header_line, headers = next((line, cells) for line, cells in rows if any(cells))
    except StopIteration:
        table.problems.append(Problem("The file is empty: it needs a header row and a row per record."))
        return table
    except csv.Error as error:
        table.problems.append(Problem(f"The file could not be read as CSV: {error}."))
        return table
    stray = [DELIMITER_NAMES[d] for d in ";\t|" if d != table.delimiter and any(d in h for h in headers)]
    if len(headers) == 1 and "," in headers[0] and table.delimiter != ",":
        stray.append("comma")
    if stray:
        example = next(h for h in headers if any(d in h for d in DELIMITERS))
        table.problems.append(
            Problem(
                f"The columns are not separated consistently: read with {DELIMITER_NAMES[table.delimiter]}s, the "
                f"header row has {len(headers)} column(s), including {', '.join(stray)} characters inside "
                f"('{shown(example)}'). Save the file again as CSV (comma-separated) from the spreadsheet or the "
                "information system.",
                line=table.header_line,
            )
        )
        return table  # without headers: nothing further can be said about the columns
    if any(CONTROL_CHARACTERS.search(h) or len(h) > 200 for h in headers):
        table.problems.append(
            Problem("The header row is not a row of column names: is this the export from the information system?")
        )
        return table
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
    table._reader = rows
    return table


def read_table(data: bytes) -> Table:
    return open_table(io.BytesIO(data))
