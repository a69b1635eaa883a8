"""What the input files share: UTF-8 text, a header with exactly the known columns, the row loop, and safe text.

`read_rows` is the one loop over a file's rows (the loan tape's and the
payment file's): it reads the header, hands each row's stripped cells to the
file's own parser, lists every bad row with its line, refuses a key seen on
an earlier line, and names an empty file. The helpers return a problem as
text (reported as line 1 of the file, or the row's line) instead of raising,
so the parsers list it with the rows' problems; a row's parser raises
`RowRefused` with its reason.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import date
from typing import Any, TypeVar

from ledger.domain.money import MoneyFormatError, cents_from_dollars
from servicing.errors import RowProblem

Row = TypeVar("Row")

# A cell starting with one of these is run as a formula when an export is opened in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@")
# Columns named in a header problem; a header of 100,000 unknown columns is counted, not listed.
LISTED_COLUMNS = 10
UTF16_WITHOUT_BOM = "the header holds NUL bytes: is the file UTF-16 without a BOM? Save it as UTF-8"


def _utf16_without_bom(raw: bytes) -> bool:
    """Every other byte of the first line NUL: UTF-16 text of a header (ASCII column names) with no BOM.

    Checked before decoding, so such a file is named for what it is rather than
    for the first non-ASCII character that happens not to be valid UTF-8.
    """
    head = raw[:64]
    return len(head) >= 8 and (head[1::2].count(0) == len(head[1::2]) or head[0::2].count(0) == len(head[0::2]))


def decoded(raw: bytes) -> tuple[str, tuple[int, str] | None]:
    """The file's text (UTF-8, with or without a BOM), or "" and (line, why) it cannot be read."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", (1, "the file is UTF-16 text; save it as UTF-8")
    if _utf16_without_bom(raw):
        return "", (1, UTF16_WITHOUT_BOM)
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        # The line of the first bad byte, counted as the csv reader counts them (\r\n, \r or \n).
        line = raw[:error.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
        return "", (line, f"the file is not UTF-8 text (bad byte 0x{raw[error.start]:02x} at offset {error.start})")


def column_reader(text: str, columns: Sequence[str],
                  optional: Sequence[str] = ()) -> tuple[csv.DictReader[str], str | None]:
    """A reader over the rows keyed by the stripped header, or why the header is not `columns` (plus any of
    the `optional` ones: a file written before they existed leaves them out)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        return reader, f"the header is not readable CSV ({error})"
    if not any(header):
        return reader, "the file is empty: no header, no rows"
    if any("\x00" in h for h in header):
        return reader, UTF16_WITHOUT_BOM
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns and c not in optional]
    counts = Counter(header)
    twice = [c for c in (*columns, *optional) if counts[c] > 1]
    parts = ([f"missing columns {_listed(missing)}"] if missing else []) + (
        [f"unknown columns {_listed(extra)}"] if extra else []) + (
        [f"columns {_listed(twice)} appear twice"] if twice else [])
    reader.fieldnames = header
    return reader, "; ".join(parts) or None


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(n if n.isidentifier() and len(n) <= 40 else repr(n[:40]) for n in names[:LISTED_COLUMNS])
    return shown + (f" and {len(names) - LISTED_COLUMNS} more" if len(names) > LISTED_COLUMNS else "")


def records(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str | Any, str | Any] | str]]:
    """Each row as (line, record); a row the csv module cannot read ends the file as (line, why)."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The csv reader cannot go on past such a row (an over-long field): the rest is not read.
            # line_num counts the lines read before the bad row: the row starts on the next.
            yield reader.line_num + 1, f"not readable CSV ({error}); the rest of the file was not read"
            return
        yield reader.line_num, record


class RowRefused(ValueError):
    """Why one row cannot be read; `read_rows` lists it with the row's line and goes on to the next row."""


def read_rows(source: str | bytes, columns: Sequence[str], parse_row: Callable[[int, dict[str, str]], Row], *,
              key: Callable[[Row], Hashable], twice: Callable[[Row, int], str],
              empty: str, optional: Sequence[str] = ()) -> tuple[list[Row], list[RowProblem]]:
    """Every good row of a CSV file and every problem, each problem with its line (the header is line 1).

    `source` is the file's text, or its bytes as uploaded (UTF-8, with or
    without a BOM). `parse_row(line, cells)` turns one row's stripped cells
    into a row or raises RowRefused; an `optional` column the header leaves
    out reads as an empty cell in every row. A row whose `key` an earlier good row
    already has is refused with `twice(row, earlier line)`; a file with
    neither rows nor problems is refused with `empty`.
    """
    if isinstance(source, bytes):
        source, undecodable = decoded(source)
        if undecodable:
            return [], [RowProblem(*undecodable)]
    reader, wrong_header = column_reader(source, columns, optional)
    if wrong_header:
        return [], [RowProblem(1, wrong_header)]
    rows: list[Row] = []
    problems: list[RowProblem] = []
    seen: dict[Hashable, int] = {}
    for line, record in records(reader):
        if isinstance(record, str):
            problems.append(RowProblem(line, record))  # why the row is unreadable
            continue
        try:
            row = parse_row(line, _cells(record, optional))
        except RowRefused as refused:
            problems.append(RowProblem(line, str(refused)))
            continue
        if key(row) in seen:
            problems.append(RowProblem(line, twice(row, seen[key(row)])))
            continue
        seen[key(row)] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(RowProblem(1, empty))
    return rows, problems


def _cells(record: dict[str | Any, str | Any], optional: Sequence[str] = ()) -> dict[str, str]:
    """The row's cells, stripped (an optional column the header leaves out: empty); refused when it has more or
    fewer fields than the header has columns."""
    if None in record:
        raise RowRefused("more fields than columns")
    if None in record.values():
        # A row cut short (a truncated last line) would otherwise read as empty optional columns.
        raise RowRefused(f"fewer fields than columns (no {', '.join(k for k, v in record.items() if v is None)})")
    cells = {k: (v or "").strip() for k, v in record.items()}
    return {**dict.fromkeys(optional, ""), **cells} if optional else cells


# The loan number every file and form takes: it becomes a stream name (loan:<number>) and a URL part.
LOAN_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")


def loan_number_cell(cells: dict[str, str]) -> str:
    """The row's loan_number, refused unless it is 1-40 letters, digits, '-', '_' or '.'."""
    number = cells["loan_number"]
    if not LOAN_NUMBER.match(number):
        raise RowRefused(f"loan_number {number[:40]!r} must be 1-40 letters, digits, '-', '_' or '.'")
    return number


def money_cell(cells: dict[str, str], name: str, *, positive: bool = False) -> int:
    """A column of dollars as integer cents, by ledger.domain.money's one parser; zero refused where `positive`."""
    try:
        cents = cents_from_dollars(cells[name])
    except MoneyFormatError as error:
        raise RowRefused(f"{name}: {error}") from None
    if positive and cents == 0:
        raise RowRefused(f"{name} {cells[name]} must be more than zero")
    return cents


def date_cell(cells: dict[str, str], name: str) -> date:
    """A column of ISO dates (YYYY-MM-DD); each file adds its own bounds."""
    try:
        return date.fromisoformat(cells[name])
    except ValueError:
        raise RowRefused(f"{name} {cells[name][:40]!r} is not an ISO date (YYYY-MM-DD)") from None


# Characters that do not show when printed: controls, formatting marks (zero width space U+200B, the
# BOM U+FEFF, direction marks), surrogates, private-use characters and the line and paragraph
# separators. In a name or a reference they make two texts that look the same compare different.
UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def unseen_character(value: str) -> str | None:
    """The first character of value that does not show when printed, described for a message; None if none."""
    if value.isascii() and value.isprintable():
        return None  # letters, digits, punctuation, symbols and the plain space only: all show (most cells)
    bad = next((c for c in value if unicodedata.category(c) in UNSEEN_CATEGORIES), None)
    if bad is None:
        return None
    return f"the control character {bad!r} (U+{ord(bad):04X} {unicodedata.name(bad, 'unnamed')})"


def free_text_problem(name: str, value: str, *, limit: int = 200) -> str | None:
    """Why a name or address cannot be stored and shown, or None if it can."""
    if not value or len(value) > limit:
        return f"{name} is required (at most {limit} characters)"
    unseen = unseen_character(value)
    if unseen is not None:
        return f"{name} contains {unseen}, which does not show on screen; remove it"
    if value.startswith(FORMULA_STARTS):
        return f"{name} {value[:40]!r} starts with {value[0]!r}, which a spreadsheet would run as a formula"
    return None
