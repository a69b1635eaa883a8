"""Reading a payment file: CSV rows of money received into checked values, every bad row reported.

Pure: bytes or text in, (rows, problems) out; "today" is an argument so the
future-date check needs no clock. The columns are

    loan_number, received_on, amount, reference

with `received_on` an ISO date and `amount` dollars with at most two
decimals ("849.55"). A problem names the line number (the header is line 1)
and the reason. What only the database knows (is the loan boarded, open,
was the reference posted before) is checked by the service.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from ledger.domain.money import dollars
from servicing.domain.csv_files import (
    FORMULA_STARTS, RowRefused, date_cell, loan_number_cell, money_cell, read_rows, unseen_character,
)
from servicing.errors import RowProblem

PAYMENT_COLUMNS = ("loan_number", "received_on", "amount", "reference")
# Bank references become idempotency keys ("payment:<reference>", at most 200 characters in the ledger).
MAX_REFERENCE = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


PaymentFileProblem = RowProblem  # one shape for every file's bad rows


@dataclass(frozen=True, slots=True)
class PaymentRow:
    line: int
    loan_number: str
    received_on: date
    amount_cents: int
    reference: str

    def describe(self) -> str:
        return f"{dollars(self.amount_cents)} to loan {self.loan_number} received on {self.received_on.isoformat()}"


def reference_problem(reference: object) -> str | None:
    """Why a bank reference cannot be used, or None if it can (shared with the services)."""
    if not isinstance(reference, str) or not reference.strip():
        return "the reference is empty; every payment needs the bank's reference"
    if len(reference.strip()) > MAX_REFERENCE or _CONTROL.search(reference):
        return f"reference {reference[:40]!r} must be at most {MAX_REFERENCE} printable characters"
    # "REF1" and "REF1" + a zero width space look the same and would be two references: the duplicate
    # check could not see the second payment of the same money. So would an accent typed apart
    # (not NFC) or an unusual space.
    unseen = unseen_character(reference) or _odd_space(reference)
    if unseen:
        return (f"reference {reference[:40]!r} contains {unseen}, which does not show on screen "
                "(a reference that looks the same would count as another); remove it")
    if not unicodedata.is_normalized("NFC", reference):
        return (f"reference {reference[:40]!r} has a letter written as separate marks (not NFC); "
                "retype it so that it reads the same as the bank's")
    if reference.strip().startswith(FORMULA_STARTS):
        # References are shown in statements and exported as CSV, where this would run as a formula.
        return f"reference {reference[:40]!r} must not start with {reference.strip()[0]!r}"
    return None


def _odd_space(reference: str) -> str | None:
    if reference.isascii():
        return None  # the one ASCII space is the plain space
    odd = next((c for c in reference if unicodedata.category(c) == "Zs" and c != " "), None)
    return None if odd is None else f"the space {odd!r} (U+{ord(odd):04X} {unicodedata.name(odd, 'unnamed')})"


def parse_payment_file_bytes(raw: bytes, *, today: date) -> tuple[list[PaymentRow], list[PaymentFileProblem]]:
    """A payment file as uploaded or read from disk: UTF-8 (with or without a BOM)."""
    return parse_payment_file(raw, today=today)


def parse_payment_file(source: str | bytes, *, today: date) -> tuple[list[PaymentRow], list[PaymentFileProblem]]:
    return read_rows(source, PAYMENT_COLUMNS, lambda line, cells: _row(line, cells, today),
                     key=lambda row: row.reference,
                     twice=lambda row, line: f"reference {row.reference} is in the file twice (also line {line})",
                     empty="the file has no payments")


def _row(line: int, get: dict[str, str], today: date) -> PaymentRow:
    number = loan_number_cell(get)
    problem = reference_problem(get["reference"])
    if problem:
        raise RowRefused(problem)
    received_on = date_cell(get, "received_on")
    if received_on > today:
        raise RowRefused(f"received_on {received_on.isoformat()} is in the future (today is {today.isoformat()})")
    if not get["amount"]:
        raise RowRefused("amount is required (dollars with cents, like 849.55)")
    amount = money_cell(get, "amount", positive=True)  # (a negative amount is refused by the parser)
    return PaymentRow(line=line, loan_number=number, received_on=received_on, amount_cents=amount,
                      reference=get["reference"])
