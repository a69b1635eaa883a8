"""Payment files: a bank's file of payments previewed against the ledger, then imported all or nothing.

The file's rules (columns, amounts, references, dates) are
`servicing.domain.payment_file`; this module checks each row against the ledger
(the loan, its state, a reference posted before) and posts the file in one
transaction, all or nothing, in two steps:

1. work out: every payment of the file computed in memory, in file order, from
   the positions the preview read (one query). The file is cut into chunks in
   which each loan appears once; a loan's second payment in the file is worked
   out on its position after the first, folded in memory. Nothing is written,
   and no lock is held: another import or a close runs meanwhile.
2. publish: the whole file's events in one `append_batch`, which takes the
   log's position lock, checks every loan's stream is still at the version
   read, seals and writes; the transaction commits right after. So two imports
   (or an import and a close) serialise only on this short step, not on a
   whole file. If another writer moved one of the loans (or posted one of the
   references) since the read, the file posts row by row through
   `payment_post`, each payment with its own retries.

Every row's date is checked by the dated-fact rules (ledger.business_time) at
the preview, without the lock; so the preview remembers the log's position
first, and the publish, under the lock, asks whether anything those rules read
was recorded since (a trust formed with one of the file's loans, a loan removed
from a pool, a period closed). Only then are the rows' dates checked again, and
a row refused now refuses the file, nothing written.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import F

from ledger.actors import Actor
from ledger.bulk import among, cycle_collector_paused
from ledger.business_time import dated_rules_moved, last_recorded_position, today as business_today
from ledger.errors import ConcurrencyConflict, IdempotencyConflict
from ledger.hooks import reached
from ledger.domain.records import RecordedEvent, StreamAppend
from ledger.selectors import recorded_by_keys
from ledger.services import append_batch
from servicing.errors import FileRejected, LoanClosed, ServicingError, UnknownLoan
from servicing.events import loan_fact
from servicing.models import LoanPosition, loan_stream
from servicing.domain.payment_file import PaymentFileProblem, PaymentRow, parse_payment_file_bytes
from servicing.services.loan_events import require_open
from servicing.services.payment_requests import (
    DuplicateReference, PaymentRequest, payment_terms, received_on_problems,
)
from servicing.services.payments import (
    PaymentResult, PaymentWorkedOut, ordinary_payment_worked_out, payment_post, payment_worked_out,
)

# Payments of a file worked out together, each loan once in a chunk (the file is published whole at the end).
FILE_CHUNK = 2000


@dataclass
class PaymentFilePreview:
    """What importing a file would do: rows to post, rows posted before (same content), and every problem."""

    to_post: list[PaymentRow] = field(default_factory=list)
    already_posted: list[PaymentRow] = field(default_factory=list)
    problems: list[PaymentFileProblem] = field(default_factory=list)
    # The positions read for the check, by loan: the import works the payments out on them (no second read);
    # the publish step checks each loan's stream is still at the version read.
    positions: dict[str, LoanPosition] = field(default_factory=dict, repr=False, compare=False)
    # The log's last position before the rows' dates were checked: the publish checks them again only if an
    # event the dated rules depend on was recorded after it. None: not checked by a preview (check at publish).
    dates_as_of: int | None = field(default=None, repr=False, compare=False)


@dataclass
class PaymentFileResult:
    posted: list[PaymentResult] = field(default_factory=list)
    already_posted: list[PaymentRow] = field(default_factory=list)


def payment_file_preview(*, raw: bytes, today: date | None = None) -> PaymentFilePreview:
    """Check every row of a payment file against the file's rules and the ledger; records nothing."""
    rows, problems = parse_payment_file_bytes(raw, today=today or business_today())
    # The loan's boarding day joined in as a value: a Loan instance per row would cost as much as the position.
    # The file's loans as one parameter (ledger.bulk.among), not a placeholder each.
    positions = {p.loan_id: p for p in LoanPosition.objects.filter(loan_id__in=among({r.loan_number for r in rows}))
                 .annotate(boarded_on=F("loan__boarded_on"))}
    preview = PaymentFilePreview(problems=list(problems), positions=positions)
    originals = {r.idempotency_key: r for r in recorded_by_keys([f"payment:{r.reference}" for r in rows])}
    preview.dates_as_of = last_recorded_position()  # before the rules read: what they saw is at or before it
    dated = received_on_problems([(r.loan_number, r.received_on) for r in rows])  # every row's date, together
    for row, date_problem in zip(rows, dated):
        problem = _row_problem(row, positions.get(row.loan_number), originals.get(f"payment:{row.reference}"),
                               date_problem)
        if problem == "already posted":
            preview.already_posted.append(row)
        elif problem:
            preview.problems.append(PaymentFileProblem(row.line, problem))
        else:
            preview.to_post.append(row)
    preview.problems.sort(key=lambda p: p.line)
    return preview


def _row_problem(row: PaymentRow, position: LoanPosition | None, original: RecordedEvent | None,
                 date_problem: str | None) -> str | None:
    if original is not None:
        request = PaymentRequest(loan_number=row.loan_number, reference=row.reference, amount_cents=row.amount_cents,
                                 received_on=row.received_on, principal_only=False)
        return "already posted" if request.matches(original) else str(
            DuplicateReference(row.reference, original, request))
    if position is None:
        return str(UnknownLoan(row.loan_number))
    if position.is_closed:
        return str(LoanClosed(row.loan_number, position.status))
    boarded_on = position.boarded_on  # annotated by the preview's query
    if row.received_on < boarded_on:
        return (f"loan {row.loan_number}: received_on {row.received_on.isoformat()} is before the loan was boarded "
                f"on {boarded_on.isoformat()}")
    return date_problem  # e.g. money on or before the trust's cut-off


def payment_file_import(*, raw: bytes, acting_user: Actor, today: date | None = None) -> PaymentFileResult:
    """Post every payment of a file in file order in one transaction, or none; never a reference twice.

    Raises FileRejected listing every bad row (with its line) when any row is
    bad, including a row refused while posting (e.g. a second payment to a
    loan an earlier row paid off).
    """
    with cycle_collector_paused():  # a file's rows, positions and events all live until it is posted
        preview = payment_file_preview(raw=raw, today=today)
        if preview.problems:
            raise FileRejected("payment file", preview.problems)
        return _post_file(preview, acting_user)


@transaction.atomic
def _post_file(preview: PaymentFilePreview, acting_user: Actor) -> PaymentFileResult:
    result = PaymentFileResult(already_posted=preview.already_posted)
    worked_out, problems = _work_out_file(preview)
    if problems:
        # Nothing was written: the file is refused whole, naming every bad row.
        raise FileRejected("payment file", sorted(problems, key=lambda p: p.line))
    if worked_out:
        result.posted = _publish(worked_out, preview, acting_user)
        reached("import:appended")  # tests kill or pause the import here: every event appended, nothing committed
    return result


def _work_out_file(preview: PaymentFilePreview) -> tuple[list[PaymentWorkedOut], list[PaymentFileProblem]]:
    """Every payment of the file worked out in memory, in file order; nothing written, no lock taken.

    A loan's next payment in the file is worked out on its position after the
    previous one: the events worked out are folded into a copy of the position
    (as the LoanPosition projection will fold them once recorded), and its
    stream version moved on by as many events.
    """
    rows = preview.to_post
    positions = dict(preview.positions) or {
        p.loan_id: p for p in LoanPosition.objects.filter(loan_id__in={r.loan_number for r in rows})}
    # Every row's date was checked by the preview just before (by the dated-fact rules, one query per rule);
    # not again here, without the lock, where it could not stop a cut-off moving before the publish: the
    # publish asks, under the lock, whether anything the rules read was recorded since (`_dates_still_hold`).
    again = _loans_paid_again(rows)
    worked_out: list[PaymentWorkedOut] = []
    problems: list[PaymentFileProblem] = []
    for chunk in _file_chunks(rows):
        for row in chunk:
            try:
                request = payment_terms(row.loan_number, row.amount_cents, row.received_on, row.reference, False)
                worked = _work_out_payment(require_open(positions.get(row.loan_number), row.loan_number), request)
            except ServicingError as refused:
                problems.append(PaymentFileProblem(row.line, str(refused)))
                continue
            worked_out.append(worked)
            if row.loan_number in again:
                positions[row.loan_number] = _position_after(worked)
        reached("import:chunk")  # tests kill or pause the import here: a chunk worked out, nothing written
    return worked_out, problems


def _work_out_payment(position: LoanPosition, request: PaymentRequest) -> PaymentWorkedOut:
    """One payment of the file: by the batch math when it is an ordinary payment, else the reference way."""
    return ordinary_payment_worked_out(position, request) or payment_worked_out(position, request)


def _loans_paid_again(rows: list[PaymentRow]) -> set[str]:
    """The loans with more than one payment in the file: only their positions are folded in memory."""
    seen: set[str] = set()
    again: set[str] = set()
    for row in rows:
        (again if row.loan_number in seen else seen).add(row.loan_number)
    return again


def _position_after(worked: PaymentWorkedOut) -> LoanPosition:
    """The loan's position once `worked`'s events are recorded: a copy, the one worked on is left as read."""
    position = copy.copy(worked.position)
    for event in worked.events:
        position = loan_fact(event).fold_into(position)
    position.stream_version += len(worked.events)
    return position


def _publish(worked_out: list[PaymentWorkedOut], preview: PaymentFilePreview,
             acting_user: Actor) -> list[PaymentResult]:
    """Append the whole file's events in one batch, each loan's at the version read; the short, locked step.

    A loan paid twice in the file is one append of its events in file order.
    Under the lock, first, the rows' dates still hold (`_dates_still_hold`).
    If another writer moved one of these loans (or posted one of these
    references) since they were read, the batch is undone to its savepoint and
    the file posts row by row, each payment with its own retries.
    """
    rows = preview.to_post
    by_loan: dict[str, list[PaymentWorkedOut]] = {}
    for worked in worked_out:
        by_loan.setdefault(worked.position.loan_id, []).append(worked)
    try:
        with transaction.atomic():
            recorded = append_batch(appends=[
                StreamAppend(loan_stream(loan), payments[0].position.stream_version,
                             tuple(event for worked in payments for event in worked.events))
                for loan, payments in by_loan.items()
            ], acting_user=acting_user, under_lock=lambda last_position: _dates_still_hold(preview, last_position))
    except (ConcurrencyConflict, IdempotencyConflict):
        posted, problems = _post_rows(rows, acting_user, [])
        if problems:
            raise FileRejected("payment file", sorted(problems, key=lambda p: p.line)) from None
        return posted
    # Each loan's events in file order, handed out payment by payment (its own, then any refund).
    by_stream: dict[str, list[RecordedEvent]] = {}
    for event in recorded:
        by_stream.setdefault(event.stream, []).append(event)
    handed = {stream: iter(events) for stream, events in by_stream.items()}
    results = []
    for worked in worked_out:
        events = handed[loan_stream(worked.position.loan_id)]
        results.append(worked.result([next(events) for _ in worked.events]))
    return results


def _dates_still_hold(preview: PaymentFilePreview, last_position: int) -> None:
    """Under the log's lock: the file's rows' dates as the dated rules answer now, if anything they read was
    recorded since the preview checked them (one query, none when nothing at all was recorded); a row a rule
    refuses now refuses the file (FileRejected naming each such row and its line), nothing written."""
    moved = None if preview.dates_as_of is None else dated_rules_moved(preview.dates_as_of, last_position)
    if moved is not None and not moved:
        return
    rows = preview.to_post
    # Only the rules whose read models moved: every row to post passed the others at the preview.
    now = received_on_problems([(r.loan_number, r.received_on) for r in rows], only=moved)
    refused = [PaymentFileProblem(row.line, problem) for row, problem in zip(rows, now) if problem]
    if refused:
        raise FileRejected("payment file", refused)


def _file_chunks(rows: list[PaymentRow]) -> list[list[PaymentRow]]:
    """The file's rows in order, cut into chunks in which each loan appears at most once.

    A chunk is worked out from the positions as they stand before it, so a
    loan's second payment in a file goes in a later chunk and sees what its
    first one did.
    """
    chunks: list[list[PaymentRow]] = []
    current: list[PaymentRow] = []
    loans: set[str] = set()
    for row in rows:
        if len(current) >= FILE_CHUNK or row.loan_number in loans:
            chunks.append(current)
            current, loans = [], set()
        current.append(row)
        loans.add(row.loan_number)
    if current:
        chunks.append(current)
    return chunks


def _post_rows(rows: list[PaymentRow], acting_user: Actor,
               problems: list[PaymentFileProblem]) -> tuple[list[PaymentResult], list[PaymentFileProblem]]:
    """The slow, always-right way for a chunk another writer got in the way of: one payment at a time."""
    refused_lines = {p.line for p in problems}
    posted = []
    for row in rows:
        if row.line in refused_lines:
            continue
        try:
            posted.append(payment_post(loan_number=row.loan_number, amount_cents=row.amount_cents,
                                       received_on=row.received_on, reference=row.reference,
                                       acting_user=acting_user))
        except ServicingError as refused:
            problems.append(PaymentFileProblem(row.line, str(refused)))
    return posted, problems
