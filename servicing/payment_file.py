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

from ledger.money import MoneyFormatError, cents_from_dollars, dollars
from servicing.csv_files import FORMULA_STARTS, column_reader, decoded, records, unseen_character
from servicing.errors import RowProblem

PAYMENT_COLUMNS = ("loan_number", "received_on", "amount", "reference")
LOAN_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
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


class _Bad(ValueError):
    pass


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
    odd = next((c for c in reference if unicodedata.category(c) == "Zs" and c != " "), None)
    return None if odd is None else f"the space {odd!r} (U+{ord(odd):04X} {unicodedata.name(odd, 'unnamed')})"


def parse_payment_file_bytes(raw: bytes, *, today: date) -> tuple[list[PaymentRow], list[PaymentFileProblem]]:
    """A payment file as uploaded or read from disk: UTF-8 (with or without a BOM)."""
    text, unreadable = decoded(raw)
    if unreadable:
        return [], [PaymentFileProblem(*unreadable)]
    return parse_payment_file(text, today=today)


def parse_payment_file(text: str, *, today: date) -> tuple[list[PaymentRow], list[PaymentFileProblem]]:
    reader, wrong_header = column_reader(text, PAYMENT_COLUMNS)
    if wrong_header:
        return [], [PaymentFileProblem(1, wrong_header)]
    rows, problems, seen = [], [], {}
    for line, record, unreadable in records(reader):
        if unreadable:
            problems.append(PaymentFileProblem(line, unreadable))
            continue
        try:
            row = _row(line, record, today)
        except _Bad as bad:
            problems.append(PaymentFileProblem(line, str(bad)))
            continue
        if row.reference in seen:
            problems.append(PaymentFileProblem(
                line, f"reference {row.reference} is in the file twice (also line {seen[row.reference]})"))
            continue
        seen[row.reference] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(PaymentFileProblem(1, "the file has no payments"))
    return rows, problems


def _row(line: int, record: dict, today: date) -> PaymentRow:
    if None in record:
        raise _Bad("more fields than columns")
    if None in record.values():
        # A row cut short (a truncated last line) would otherwise read as empty optional columns.
        raise _Bad(f"fewer fields than columns (no {', '.join(k for k, v in record.items() if v is None)})")
    get = {k: (v or "").strip() for k, v in record.items()}
    number = get["loan_number"]
    if not LOAN_NUMBER.match(number):
        raise _Bad(f"loan_number {number[:40]!r} must be 1-40 letters, digits, '-', '_' or '.'")
    problem = reference_problem(get["reference"])
    if problem:
        raise _Bad(problem)
    try:
        received_on = date.fromisoformat(get["received_on"])
    except ValueError:
        raise _Bad(f"received_on {get['received_on'][:40]!r} is not an ISO date (YYYY-MM-DD)") from None
    if received_on > today:
        raise _Bad(f"received_on {received_on.isoformat()} is in the future (today is {today.isoformat()})")
    try:
        amount = cents_from_dollars(get["amount"]) if get["amount"] else None
    except MoneyFormatError as error:
        raise _Bad(f"amount: {error}") from None
    if amount is None:
        raise _Bad("amount is required (dollars with cents, like 849.55)")
    if amount == 0:  # (a negative amount was refused by the parser, naming the column)
        raise _Bad(f"amount {get['amount']} must be more than zero")
    return PaymentRow(line=line, loan_number=number, received_on=received_on, amount_cents=amount,
                      reference=get["reference"])
