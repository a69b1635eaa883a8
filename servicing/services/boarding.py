"""Boarding loans from a tape: all of it or none of it, and never twice.

Every row is checked first, then every loan against what is already boarded;
any problem boards nothing and all problems are reported together. A loan
already boarded on the same terms is skipped, so re-running a tape is safe,
even at the same time as the first run: boardings take turns.

Boarding only appends LoanBoarded events: the Loan, Borrower and Property
rows are written by their projection (servicing.projections.loans) in the
same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction

from ledger.actors import Actor
from ledger.business_time import BusinessDateError, require_not_future
from ledger.domain.records import PostingLine, StreamAppend
from ledger.services import append_batch
from servicing.domain import accounts
from servicing.errors import DateRefused, FileRejected
from servicing.events import LoanBoarded
from servicing.models import loan_stream
from servicing.domain.loan_tape import LoanTapeRow, TapeProblem, parse_tape_bytes

CHUNK = 2000
# PostgreSQL advisory lock key of boarding (any number no other lock uses: "boarding" in ASCII).
BOARDING_LOCK = int.from_bytes(b"boarding", "big")


@dataclass
class BoardingResult:
    boarded: list[str] = field(default_factory=list)
    already_boarded: list[str] = field(default_factory=list)


def boarding_fact(row: LoanTapeRow) -> LoanBoarded:
    """The terms in force at boarding, as the LoanBoarded event records them (the loan, borrower and property
    rows are projections of it)."""
    return LoanBoarded(
        loan_number=row.loan_number, borrower_name=row.borrower_name, property_address=row.property_address,
        property_type=row.property_type, property_value_cents=row.property_value_cents,
        original_balance_cents=row.original_balance_cents, current_balance_cents=row.current_balance_cents,
        note_rate=row.note_rate, term_months=row.term_months, first_payment_date=row.first_payment_date,
        next_due_date=row.next_due_date, servicing_fee_rate=row.servicing_fee_rate,
        escrow_monthly_cents=row.escrow_monthly_cents, autopay=row.autopay, payment_pi_cents=row.payment_pi_cents,
        terms=row.terms,
    )


def tape_board(*, raw: bytes, boarded_on: date, acting_user: Actor) -> BoardingResult:
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
                acting_user: Actor) -> BoardingResult:
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
            Event.objects.filter(stream__in=[loan_stream(r.loan_number) for r in chunk], event_type=LoanBoarded.event_type)
            .values_list("stream", "payload")
        )
        for row in chunk:
            before = boarded.get(loan_stream(row.loan_number))
            if before is None:
                new.append(row)
            elif LoanBoarded.from_payload(before) != boarding_fact(row):
                clashes.append(TapeProblem(row.line, f"loan {row.loan_number} is already boarded on other terms"))
    return new, clashes


def _record(rows: list[LoanTapeRow], boarded_on: date, acting_user: Actor) -> None:
    """Append each loan's LoanBoarded; the loans projection writes the loan, borrower and property rows."""
    appends = [
        StreamAppend(loan_stream(r.loan_number), 0, (boarding_fact(r).new_event(
            effective_date=boarded_on,
            postings=(
                PostingLine(accounts.principal(r.loan_number), r.current_balance_cents),
                PostingLine(accounts.BOARDING_CLEARING, -r.current_balance_cents),
            ),
        ),))
        for r in rows
    ]
    append_batch(appends=appends, acting_user=acting_user)
