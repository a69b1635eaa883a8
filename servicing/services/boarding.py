"""Boarding loans from a tape: all of it or none of it, and never twice.

Every row is checked first, then every loan against what is already boarded;
any problem boards nothing and all problems are reported together. A loan
already boarded on the same terms is skipped, so re-running a tape is safe,
even at the same time as the first run: boardings take turns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction

from ledger.business_time import BusinessDateError, require_not_future
from ledger.bulk import insert_rows
from ledger.records import NewEvent, PostingLine, StreamAppend
from ledger.services import append_batch
from servicing import accounts
from servicing.errors import DateRefused, FileRejected
from servicing.models import Borrower, Loan, Property, loan_stream
from servicing.tape import LoanTapeRow, TapeProblem, parse_tape_bytes

CHUNK = 2000
# PostgreSQL advisory lock key of boarding (any number no other lock uses: "boarding" in ASCII).
BOARDING_LOCK = int.from_bytes(b"boarding", "big")


@dataclass
class BoardingResult:
    boarded: list[str] = field(default_factory=list)
    already_boarded: list[str] = field(default_factory=list)


def boarding_payload(row: LoanTapeRow) -> dict:
    """The terms in force at boarding, as the LoanBoarded event records them."""
    return {
        "loan_number": row.loan_number,
        "borrower_name": row.borrower_name,
        "property_address": row.property_address,
        "property_type": row.property_type,
        "property_value_cents": row.property_value_cents,
        "original_balance_cents": row.original_balance_cents,
        "current_balance_cents": row.current_balance_cents,
        "note_rate": str(row.note_rate),
        "term_months": row.term_months,
        "first_payment_date": row.first_payment_date.isoformat(),
        "next_due_date": row.next_due_date.isoformat(),
        "servicing_fee_rate": str(row.servicing_fee_rate),
        "escrow_monthly_cents": row.escrow_monthly_cents,
        "autopay": row.autopay,
        "payment_pi_cents": row.payment_pi_cents,
    }


def tape_board(*, raw: bytes, boarded_on: date, acting_user=None) -> BoardingResult:
    """Board every loan of a tape file, or none; raises FileRejected listing every bad row."""
    rows, problems = parse_tape_bytes(raw)
    return loans_board(rows=rows, problems=problems, boarded_on=boarded_on, acting_user=acting_user)


def tape_preview(*, raw: bytes) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    """What boarding would do, without doing it: the good rows and every problem."""
    rows, problems = parse_tape_bytes(raw)
    _, clashes = _split_new(rows)
    return rows, sorted(problems + clashes, key=lambda p: p.line)


@transaction.atomic
def loans_board(*, rows: list[LoanTapeRow], problems: list[TapeProblem] = (), boarded_on: date,
                acting_user=None) -> BoardingResult:
    try:
        require_not_future("boarding date", boarded_on)
    except BusinessDateError as refused:
        raise DateRefused(str(refused)) from None
    _one_boarding_at_a_time()
    new, clashes = _split_new(rows)
    problems = sorted([*problems, *clashes], key=lambda p: p.line)
    if problems:
        raise FileRejected("loan tape", problems)
    # By loan number: a membership test on the list of new rows made boarding quadratic in the tape.
    new_numbers = {r.loan_number for r in new}
    result = BoardingResult(already_boarded=[r.loan_number for r in rows if r.loan_number not in new_numbers])
    for start in range(0, len(new), CHUNK):
        chunk = new[start : start + CHUNK]
        _record(chunk, boarded_on, acting_user)
        result.boarded.extend(r.loan_number for r in chunk)
    return result


def _one_boarding_at_a_time() -> None:
    """Wait for any other boarding to commit before deciding which loans are new.

    Two uploads of the same tape at once would otherwise both find its loans
    new, and the second would fail on the first's rows (a 500). Holding this
    lock to the end of the transaction, the second sees the first's loans
    and answers as a re-run does: already boarded (or a clash on other terms).
    SQLite needs none: its IMMEDIATE transactions already run one at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BOARDING_LOCK])


def _split_new(rows: list[LoanTapeRow]) -> tuple[list[LoanTapeRow], list[TapeProblem]]:
    """Rows not yet boarded, and a problem for each boarded before on other terms."""
    from ledger.models import Event

    new, clashes = [], []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        boarded = dict(
            Event.objects.filter(stream__in=[loan_stream(r.loan_number) for r in chunk], event_type="LoanBoarded")
            .values_list("stream", "payload")
        )
        for row in chunk:
            before = boarded.get(loan_stream(row.loan_number))
            if before is None:
                new.append(row)
            elif before != boarding_payload(row):
                clashes.append(TapeProblem(row.line, f"loan {row.loan_number} is already boarded on other terms"))
    return new, clashes


def _record(rows: list[LoanTapeRow], boarded_on: date, acting_user) -> None:
    appends = [
        StreamAppend(loan_stream(r.loan_number), 0, (NewEvent(
            event_type="LoanBoarded", payload=boarding_payload(r), effective_date=boarded_on,
            postings=(
                PostingLine(accounts.principal(r.loan_number), r.current_balance_cents),
                PostingLine(accounts.BOARDING_CLEARING, -r.current_balance_cents),
            ),
        ),))
        for r in rows
    ]
    borrowers = Borrower.objects.bulk_create([Borrower(name=r.borrower_name) for r in rows])
    properties = Property.objects.bulk_create([
        Property(address=r.property_address, property_type=r.property_type, value_cents=r.property_value_cents)
        for r in rows
    ])
    insert_rows(Loan, [
        Loan(
            loan_number=r.loan_number, borrower=b, property=p, original_balance_cents=r.original_balance_cents,
            boarded_balance_cents=r.current_balance_cents, note_rate=r.note_rate, term_months=r.term_months,
            first_payment_date=r.first_payment_date, servicing_fee_rate=r.servicing_fee_rate,
            payment_pi_cents=r.payment_pi_cents, autopay=r.autopay, boarded_on=boarded_on,
        )
        for r, b, p in zip(rows, borrowers, properties)
    ])
    # The loan rows exist before the events' projection runs inside append_batch.
    append_batch(appends=appends, acting_user=acting_user)
