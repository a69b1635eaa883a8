"""Reading a loan tape: CSV rows into checked values, every bad row reported.

Pure: text in, (rows, problems) out. A problem names the line number (the
header is line 1) and the reason; the caller boards nothing if there is any.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.domain.money import NumberFormatError, TooManyDecimals, decimal_from_text
from servicing.domain.amortization import level_payment_cents
from servicing.domain.csv_files import (
    RowRefused, date_cell, free_text_problem, loan_number_cell, money_cell, read_rows,
)
from servicing.errors import RowProblem

TAPE_COLUMNS = (
    "loan_number", "borrower_name", "property_address", "property_type", "property_value", "original_balance",
    "current_balance", "note_rate", "term_months", "first_payment_date", "next_due_date", "servicing_fee_rate",
    "escrow_monthly", "autopay",
)
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


def parse_tape_bytes(raw: bytes) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    """A tape as uploaded or read from disk: UTF-8 (with or without a BOM)."""
    return parse_tape(raw)


def parse_tape(source: str | bytes) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    return read_rows(source, TAPE_COLUMNS, _row, key=lambda row: row.loan_number,
                     twice=lambda row, line: f"loan {row.loan_number} is on the tape twice (also line {line})",
                     empty="the tape has no loans")


def _row(line: int, get: dict[str, str]) -> LoanTapeRow:
    number = loan_number_cell(get)
    for name in ("borrower_name", "property_address"):
        problem = free_text_problem(name, get[name])
        if problem:
            raise RowRefused(problem)
    if get["property_type"].lower() not in ("residential", "commercial"):
        raise RowRefused(f"property_type {get['property_type'][:40]!r} must be residential or commercial")
    original = money_cell(get, "original_balance", positive=True)
    current = money_cell(get, "current_balance", positive=True) if get["current_balance"] else original
    if current > original:
        raise RowRefused(f"current_balance {get['current_balance']} is above "
                         f"original_balance {get['original_balance']}")
    rate = _rate(get, "note_rate")
    fee_rate = _rate(get, "servicing_fee_rate")
    if fee_rate >= rate and rate > 0:
        raise RowRefused(f"servicing_fee_rate {fee_rate} must be below note_rate {rate}")
    term = _term(get["term_months"])
    first_payment = _date(get, "first_payment_date")
    next_due = _date(get, "next_due_date") if get["next_due_date"] else first_payment
    if next_due < first_payment:
        raise RowRefused(f"next_due_date {next_due} is before first_payment_date {first_payment}")
    autopay = get["autopay"].lower()
    if autopay not in YES | NO:
        raise RowRefused(f"autopay {get['autopay'][:40]!r} must be true or false")
    return LoanTapeRow(
        line=line, loan_number=number, borrower_name=get["borrower_name"], property_address=get["property_address"],
        property_type=get["property_type"].lower(), property_value_cents=money_cell(get, "property_value"),
        original_balance_cents=original, current_balance_cents=current, note_rate=rate, term_months=term,
        first_payment_date=first_payment, next_due_date=next_due, servicing_fee_rate=fee_rate,
        escrow_monthly_cents=money_cell(get, "escrow_monthly"), autopay=autopay in YES,
        payment_pi_cents=level_payment_cents(principal_cents=original, note_rate=rate, term_months=term),
    )


def _rate(get: dict[str, str], name: str) -> Decimal:
    """An annual percentage with at most RATE_PLACES decimals, the places the loan's column keeps."""
    try:
        rate = decimal_from_text(get[name], places=RATE_PLACES)
    except TooManyDecimals:
        raise RowRefused(f"{name} {get[name][:40]!r} has more than {RATE_PLACES} decimals, the places {name} is "
                         f"kept with; it is refused rather than rounded") from None
    except NumberFormatError:
        raise RowRefused(f"{name} {get[name][:40]!r} is not a percentage like 6.125") from None
    if not 0 <= rate <= 30:
        raise RowRefused(f"{name} {get[name][:40]!r} must be a percentage from 0 to 30 "
                         f"with at most {RATE_PLACES} decimals")
    return rate.quantize(Decimal(1).scaleb(-RATE_PLACES))  # exact: it has at most RATE_PLACES decimals


def _term(text: str) -> int:
    # ASCII and short: "²" is a digit to isdigit() but not to int(), and int() refuses 5,000 digits.
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not (1 <= int(text) <= 480):
        raise RowRefused(f"term_months {text[:40]!r} must be a whole number of months from 1 to 480")
    return int(text)


def _date(get: dict[str, str], name: str) -> date:
    value = date_cell(get, name)
    if not (date(1970, 1, 1) <= value <= date(2100, 12, 31)):
        raise RowRefused(f"{name} {value} is out of range")
    return value
