"""Reading a loan tape: CSV rows into checked values, every bad row reported.

Pure: text in, (rows, problems) out. A problem names the line number (the
header is line 1) and the reason; the caller boards nothing if there is any.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.money import MoneyFormatError, NumberFormatError, TooManyDecimals, cents_from_dollars, decimal_from_text
from servicing.amortization import level_payment_cents
from servicing.csv_files import column_reader, decoded, free_text_problem, records
from servicing.errors import RowProblem

TAPE_COLUMNS = (
    "loan_number", "borrower_name", "property_address", "property_type", "property_value", "original_balance",
    "current_balance", "note_rate", "term_months", "first_payment_date", "next_due_date", "servicing_fee_rate",
    "escrow_monthly", "autopay",
)
LOAN_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
YES = {"true", "yes", "y", "1"}
NO = {"false", "no", "n", "0", ""}
# servicing.models keeps note_rate and servicing_fee_rate with 4 decimal places.
RATE_PLACES = 4


TapeProblem = RowProblem  # one shape for every file's bad rows


@dataclass(frozen=True, slots=True)
class LoanTapeRow:
    line: int
    loan_number: str
    borrower_name: str
    property_address: str
    property_type: str
    property_value_cents: int
    original_balance_cents: int
    current_balance_cents: int
    note_rate: Decimal
    term_months: int
    first_payment_date: date
    next_due_date: date
    servicing_fee_rate: Decimal
    escrow_monthly_cents: int
    autopay: bool
    payment_pi_cents: int


class _Bad(ValueError):
    pass


def parse_tape_bytes(raw: bytes) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    """A tape as uploaded or read from disk: UTF-8 (with or without a BOM)."""
    text, unreadable = decoded(raw)
    if unreadable:
        return [], [TapeProblem(*unreadable)]
    return parse_tape(text)


def parse_tape(text: str) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    reader, wrong_header = column_reader(text, TAPE_COLUMNS)
    if wrong_header:
        return [], [TapeProblem(1, wrong_header)]
    rows, problems, seen = [], [], {}
    for line, record, unreadable in records(reader):
        if unreadable:
            problems.append(TapeProblem(line, unreadable))
            continue
        try:
            row = _row(line, record)
        except _Bad as bad:
            problems.append(TapeProblem(line, str(bad)))
            continue
        if row.loan_number in seen:
            problems.append(TapeProblem(line, f"loan {row.loan_number} is on the tape twice (also line {seen[row.loan_number]})"))
            continue
        seen[row.loan_number] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(TapeProblem(1, "the tape has no loans"))
    return rows, problems


def _row(line: int, record: dict) -> LoanTapeRow:
    if None in record:
        raise _Bad("more fields than columns")
    if None in record.values():
        # A row cut short (a truncated last line) would otherwise read as empty optional columns.
        raise _Bad(f"fewer fields than columns (no {', '.join(k for k, v in record.items() if v is None)})")
    get = {k: (v or "").strip() for k, v in record.items()}
    number = get["loan_number"]
    if not LOAN_NUMBER.match(number):
        raise _Bad(f"loan_number {number[:40]!r} must be 1-40 letters, digits, '-', '_' or '.'")
    for name in ("borrower_name", "property_address"):
        problem = free_text_problem(name, get[name])
        if problem:
            raise _Bad(problem)
    if get["property_type"].lower() not in ("residential", "commercial"):
        raise _Bad(f"property_type {get['property_type'][:40]!r} must be residential or commercial")
    original = _money(get, "original_balance", positive=True)
    current = _money(get, "current_balance", positive=True) if get["current_balance"] else original
    if current > original:
        raise _Bad(f"current_balance {get['current_balance']} is above original_balance {get['original_balance']}")
    rate = _rate(get, "note_rate")
    fee_rate = _rate(get, "servicing_fee_rate")
    if fee_rate >= rate and rate > 0:
        raise _Bad(f"servicing_fee_rate {fee_rate} must be below note_rate {rate}")
    term = _term(get["term_months"])
    first_payment = _date(get, "first_payment_date")
    next_due = _date(get, "next_due_date") if get["next_due_date"] else first_payment
    if next_due < first_payment:
        raise _Bad(f"next_due_date {next_due} is before first_payment_date {first_payment}")
    autopay = get["autopay"].lower()
    if autopay not in YES | NO:
        raise _Bad(f"autopay {get['autopay'][:40]!r} must be true or false")
    return LoanTapeRow(
        line=line, loan_number=number, borrower_name=get["borrower_name"], property_address=get["property_address"],
        property_type=get["property_type"].lower(), property_value_cents=_money(get, "property_value"),
        original_balance_cents=original, current_balance_cents=current, note_rate=rate, term_months=term,
        first_payment_date=first_payment, next_due_date=next_due, servicing_fee_rate=fee_rate,
        escrow_monthly_cents=_money(get, "escrow_monthly"), autopay=autopay in YES,
        payment_pi_cents=level_payment_cents(principal_cents=original, annual_rate_percent=rate, term_months=term),
    )


def _money(get: dict, name: str, *, positive: bool = False) -> int:
    try:
        cents = cents_from_dollars(get[name])
    except MoneyFormatError as error:
        raise _Bad(f"{name}: {error}") from None
    if positive and cents == 0:
        raise _Bad(f"{name} {get[name]} must be more than zero")
    return cents


def _rate(get: dict, name: str) -> Decimal:
    """An annual percentage with at most RATE_PLACES decimals, the places the loan's column keeps."""
    try:
        rate = decimal_from_text(get[name], places=RATE_PLACES)
    except TooManyDecimals:
        raise _Bad(f"{name} {get[name][:40]!r} has more than {RATE_PLACES} decimals, the places {name} is "
                   f"kept with; it is refused rather than rounded") from None
    except NumberFormatError:
        raise _Bad(f"{name} {get[name][:40]!r} is not a percentage like 6.125") from None
    if not 0 <= rate <= 30:
        raise _Bad(f"{name} {get[name][:40]!r} must be a percentage from 0 to 30 with at most {RATE_PLACES} decimals")
    return rate.quantize(Decimal(1).scaleb(-RATE_PLACES))  # exact: it has at most RATE_PLACES decimals


def _term(text: str) -> int:
    # ASCII and short: "²" is a digit to isdigit() but not to int(), and int() refuses 5,000 digits.
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not (1 <= int(text) <= 480):
        raise _Bad(f"term_months {text[:40]!r} must be a whole number of months from 1 to 480")
    return int(text)


def _date(get: dict, name: str) -> date:
    try:
        value = date.fromisoformat(get[name])
    except ValueError:
        raise _Bad(f"{name} {get[name][:40]!r} is not an ISO date (YYYY-MM-DD)") from None
    if not (date(1970, 1, 1) <= value <= date(2100, 12, 31)):
        raise _Bad(f"{name} {value} is out of range")
    return value
