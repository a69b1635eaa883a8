"""What the loan tape and the payment file share: UTF-8 text and a header with exactly the known columns.

Each returns the problem as text (reported as line 1 of the file) instead of
raising, so the parsers list it with the rows' problems.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence


def decoded(raw: bytes) -> tuple[str, str | None]:
    """The file's text (UTF-8, with or without a BOM), or "" and why it cannot be read."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return "", f"the file is not UTF-8 text (bad byte at offset {error.start})"


def column_reader(text: str, columns: Sequence[str]) -> tuple[csv.DictReader, str | None]:
    """A reader over the rows keyed by the stripped header, or why the header is not `columns`."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns]
    parts = ([f"missing columns {', '.join(missing)}"] if missing else []) + (
        [f"unknown columns {', '.join(extra)}"] if extra else [])
    reader.fieldnames = header
    return reader, "; ".join(parts) or None
