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
from servicing.domain.arm import MARGIN_PLACES, NEAREST_EIGHTH, ArmTerms
from servicing.domain.loan_terms import ARM, FIXED, LoanTerms
from servicing.domain.csv_files import (
    RowRefused, date_cell, free_text_problem, loan_number_cell, money_cell, read_rows,
)
from servicing.errors import RowProblem

TAPE_COLUMNS = (
    "loan_number", "borrower_name", "property_address", "property_type", "property_value", "original_balance",
    "current_balance", "note_rate", "term_months", "first_payment_date", "next_due_date", "servicing_fee_rate",
    "escrow_monthly", "autopay",
)
# Loan products (issue 20): optional, so a tape written before them boards exactly as it did. All empty: a
# fixed-rate loan amortizing over its term. The arm_ columns are for product "arm" only.
PRODUCT_COLUMNS = (
    "product", "amortization_months", "interest_only_months", "arm_index", "arm_margin", "arm_rounding",
    "arm_lookback_days", "arm_first_change_months", "arm_change_every_months", "arm_first_cap",
    "arm_periodic_cap", "arm_lifetime_cap", "arm_floor",
)
ARM_DEFAULTS = {"arm_rounding": NEAREST_EIGHTH, "arm_lookback_days": "45"}
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
    terms: LoanTerms


def parse_tape_bytes(raw: bytes) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    """A tape as uploaded or read from disk: UTF-8 (with or without a BOM)."""
    return parse_tape(raw)


def parse_tape(source: str | bytes) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    return read_rows(source, TAPE_COLUMNS, _row, key=lambda row: row.loan_number,
                     twice=lambda row, line: f"loan {row.loan_number} is on the tape twice (also line {line})",
                     empty="the tape has no loans", optional=PRODUCT_COLUMNS)


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
    terms = _terms(get, term)
    if terms.is_plain:
        payment = level_payment_cents(principal_cents=original, note_rate=rate, term_months=term)
    else:
        installment = terms.number_of(first_payment, next_due)
        if terms.arm is not None and installment > terms.arm.first_change_months:
            raise RowRefused(f"next_due_date {next_due} is past the ARM's first change (installment "
                             f"{terms.arm.first_change_months + 1}): board an ARM before its first change")
        if installment > terms.term_months:
            raise RowRefused(f"next_due_date {next_due} is after the loan's maturity")
        # The P&I of the next installment: interest only, or the level payment over the amortization months left.
        payment = terms.payment_cents(balance_cents=current, note_rate=rate, from_number=installment)
    return LoanTapeRow(
        line=line, loan_number=number, borrower_name=get["borrower_name"], property_address=get["property_address"],
        property_type=get["property_type"].lower(), property_value_cents=money_cell(get, "property_value"),
        original_balance_cents=original, current_balance_cents=current, note_rate=rate, term_months=term,
        first_payment_date=first_payment, next_due_date=next_due, servicing_fee_rate=fee_rate,
        escrow_monthly_cents=money_cell(get, "escrow_monthly"), autopay=autopay in YES,
        payment_pi_cents=payment, terms=terms,
    )


def _terms(get: dict[str, str], term: int) -> LoanTerms:
    """The row's product and amortization (a plain fixed loan when the product columns are empty)."""
    if not any(get[name] for name in PRODUCT_COLUMNS):
        return LoanTerms.fixed(term)
    product = get["product"].lower() or FIXED
    arm = None
    if product == ARM:
        cells = {name: get[name] or ARM_DEFAULTS.get(name, "") for name in PRODUCT_COLUMNS if name.startswith("arm_")}
        margin = _percent(cells, "arm_margin")
        arm = ArmTerms(
            index=cells["arm_index"].upper(), margin=margin, rounding=cells["arm_rounding"].lower(),
            lookback_days=_months(cells, "arm_lookback_days"),
            first_change_months=_months(cells, "arm_first_change_months"),
            change_every_months=_months(cells, "arm_change_every_months"),
            first_cap=_percent(cells, "arm_first_cap"), periodic_cap=_percent(cells, "arm_periodic_cap"),
            lifetime_cap=_percent(cells, "arm_lifetime_cap"),
            # No floor given: the margin (the rate never falls below it, as most notes say).
            floor=_percent(cells, "arm_floor") if cells["arm_floor"] else margin,
        )
    elif any(get[name] for name in PRODUCT_COLUMNS if name.startswith("arm_")):
        raise RowRefused(f"arm_ columns are for product arm, not {product[:20]!r}")
    terms = LoanTerms(
        product=product, term_months=term,
        amortization_months=_months(get, "amortization_months") if get["amortization_months"] else term,
        interest_only_months=_months(get, "interest_only_months") if get["interest_only_months"] else 0, arm=arm)
    try:
        terms.check()
    except ValueError as refused:
        raise RowRefused(str(refused)) from None
    return terms


def _percent(cells: dict[str, str], name: str) -> Decimal:
    """A margin, cap or floor: a percentage with at most MARGIN_PLACES decimals, never negative."""
    text = cells[name]
    if not text:
        raise RowRefused(f"{name} is required for an ARM")
    try:
        return decimal_from_text(text, places=MARGIN_PLACES)
    except TooManyDecimals:
        raise RowRefused(f"{name} {text[:40]!r} has more than {MARGIN_PLACES} decimals; it is refused rather "
                         "than rounded") from None
    except NumberFormatError:
        raise RowRefused(f"{name} {text[:40]!r} must be a percentage of zero or more, like 2.75") from None


def _months(cells: dict[str, str], name: str) -> int:
    text = cells[name]
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        raise RowRefused(f"{name} {text[:40]!r} must be a whole number from 0 to 999")
    return int(text)


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
