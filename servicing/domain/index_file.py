"""Reading an index values file (index, date, percent): CSV rows into checked values, every bad row reported.

Pure: text in, (rows, problems) out, with `servicing.domain.csv_files.read_rows`.
A day's value of an index twice in one file is refused (the second line names
the first); a date after `today` is refused (a value is only known once published).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.domain.money import NumberFormatError, TooManyDecimals, decimal_from_text
from servicing.domain.arm import INDEXES
from servicing.domain.csv_files import RowRefused, date_cell, read_rows
from servicing.errors import RowProblem

INDEX_COLUMNS = ("index", "date", "percent")
INDEX_PLACES = 5  # SOFR averages are published with five decimals


@dataclass(frozen=True, slots=True)
class IndexRow:
    line: int
    index: str
    on: date
    percent: Decimal


def parse_index_file(source: str | bytes, *, today: date) -> tuple[list[IndexRow], list[RowProblem]]:
    return read_rows(source, INDEX_COLUMNS, lambda line, cells: _row(line, cells, today),
                     key=lambda row: (row.index, row.on),
                     twice=lambda row, line: f"{row.index} on {row.on} is in the file twice (also line {line})",
                     empty="the file has no index values")


def _row(line: int, cells: dict[str, str], today: date) -> IndexRow:
    index = cells["index"].upper()
    if index not in INDEXES:
        raise RowRefused(f"index {cells['index'][:40]!r} is not one we keep: {', '.join(INDEXES)}")
    on = date_cell(cells, "date")
    if on > today:
        raise RowRefused(f"date {on} is after today ({today}): an index value is recorded once published")
    try:
        percent = decimal_from_text(cells["percent"], places=INDEX_PLACES)
    except TooManyDecimals:
        raise RowRefused(f"percent {cells['percent'][:40]!r} has more than {INDEX_PLACES} decimals") from None
    except NumberFormatError:
        raise RowRefused(f"percent {cells['percent'][:40]!r} is not a percentage like 5.31234") from None
    if percent > 30:
        raise RowRefused(f"percent {percent} is above 30")
    return IndexRow(line, index, on, percent)
