"""Payment files: a bank's file of payments previewed against the ledger, then imported all or nothing.

The file's rules (columns, amounts, references, dates) are
`servicing.domain.payment_file`; this module checks each row against the ledger
(the loan, its state, a reference posted before) and posts the file in file
order in one transaction, in chunks: each chunk's positions read in one
query and its events appended in one batch. A chunk another writer got in
the way of posts row by row through `payment_post`, with its retries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from ledger.actors import Actor
from ledger.business_time import today as business_today
from ledger.errors import ConcurrencyConflict, IdempotencyConflict
from ledger.hooks import reached
from ledger.models import Event
from ledger.domain.records import RecordedEvent, StreamAppend
from ledger.selectors import recorded_events
from ledger.services import append_batch
from servicing.errors import FileRejected, LoanClosed, ServicingError, UnknownLoan
from servicing.models import LoanPosition, loan_stream
from servicing.domain.payment_file import PaymentFileProblem, PaymentRow, parse_payment_file_bytes
from servicing.services.loan_events import require_open
from servicing.services.payment_requests import (
    DuplicateReference, PaymentRefused, PaymentRequest, payment_terms, received_on_problems,
)
from servicing.services.payments import PaymentResult, payment_post, payment_worked_out

# Payments of a file computed and appended together: one read of positions, one append per chunk.
FILE_CHUNK = 2000


@dataclass
class PaymentFilePreview:
    """What importing a file would do: rows to post, rows posted before (same content), and every problem."""

    to_post: list[PaymentRow] = field(default_factory=list)
    already_posted: list[PaymentRow] = field(default_factory=list)
    problems: list[PaymentFileProblem] = field(default_factory=list)


@dataclass
class PaymentFileResult:
    posted: list[PaymentResult] = field(default_factory=list)
    already_posted: list[PaymentRow] = field(default_factory=list)


def payment_file_preview(*, raw: bytes, today: date | None = None) -> PaymentFilePreview:
    """Check every row of a payment file against the file's rules and the ledger; records nothing."""
    rows, problems = parse_payment_file_bytes(raw, today=today or business_today())
    preview = PaymentFilePreview(problems=list(problems))
    positions = {p.loan_id: p for p in LoanPosition.objects.filter(loan_id__in={r.loan_number for r in rows})
                 .select_related("loan")}
    originals = {r.idempotency_key: r for r in recorded_events(
        Event.objects.filter(idempotency_key__in=[f"payment:{r.reference}" for r in rows]))}
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
    if row.received_on < position.loan.boarded_on:
        return (f"loan {row.loan_number}: received_on {row.received_on.isoformat()} is before the loan was boarded "
                f"on {position.loan.boarded_on.isoformat()}")
    return date_problem  # e.g. money on or before the trust's cut-off


def payment_file_import(*, raw: bytes, acting_user: Actor, today: date | None = None) -> PaymentFileResult:
    """Post every payment of a file in file order in one transaction, or none; never a reference twice.

    Raises FileRejected listing every bad row (with its line) when any row is
    bad, including a row refused while posting (e.g. a second payment to a
    loan an earlier row paid off).
    """
    preview = payment_file_preview(raw=raw, today=today)
    if preview.problems:
        raise FileRejected("payment file", preview.problems)
    return _post_file(preview, acting_user)


@transaction.atomic
def _post_file(preview: PaymentFilePreview, acting_user: Actor) -> PaymentFileResult:
    result = PaymentFileResult(already_posted=preview.already_posted)
    problems: list[PaymentFileProblem] = []
    for rows in _file_chunks(preview.to_post):
        posted, refused = _post_chunk(rows, acting_user)
        result.posted.extend(posted)
        problems.extend(refused)
        reached("import:chunk")  # tests kill or pause the import here: a chunk appended, the file not committed
    if problems:
        # Raising inside the atomic block rolls back the rows already posted: all or nothing.
        raise FileRejected("payment file", sorted(problems, key=lambda p: p.line))
    return result


def _file_chunks(rows: list[PaymentRow]) -> list[list[PaymentRow]]:
    """The file's rows in order, cut into chunks in which each loan appears at most once.

    A chunk is computed from the positions as they stand before it and
    appended in one batch, so a loan's second payment in a file goes in a
    later chunk and sees what its first one did.
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


def _post_chunk(rows: list[PaymentRow], acting_user: Actor) -> tuple[list[PaymentResult], list[PaymentFileProblem]]:
    """Post a chunk's payments in one append: positions read in one query, events written in one batch.

    If another writer moved one of these loans (or posted one of these
    references) since they were read, the batch is undone to its savepoint
    and the chunk posts row by row, each payment with its own retries.
    """
    positions = {p.loan_id: p for p in LoanPosition.objects.filter(loan_id__in=[r.loan_number for r in rows])
                 .select_related("loan")}
    worked_out, problems = [], []
    # Checked again at posting (the trusts may have moved since the preview), the chunk's dates together.
    dated = received_on_problems([(r.loan_number, r.received_on) for r in rows])
    for row, date_problem in zip(rows, dated):
        try:
            request = payment_terms(row.loan_number, row.amount_cents, row.received_on, row.reference, False)
            if date_problem:
                raise PaymentRefused(date_problem)
            worked_out.append(payment_worked_out(require_open(positions.get(row.loan_number), row.loan_number),
                                                 request))
        except ServicingError as refused:
            problems.append(PaymentFileProblem(row.line, str(refused)))
    if not worked_out:
        return [], problems
    try:
        with transaction.atomic():
            recorded = append_batch(appends=[
                StreamAppend(loan_stream(w.position.loan_id), w.position.stream_version, tuple(w.events))
                for w in worked_out
            ], acting_user=acting_user)
    except (ConcurrencyConflict, IdempotencyConflict):
        return _post_rows(rows, acting_user, problems)
    by_stream: dict[str, list[RecordedEvent]] = {}
    for event in recorded:
        by_stream.setdefault(event.stream, []).append(event)
    return [w.result(by_stream[loan_stream(w.position.loan_id)]) for w in worked_out], problems


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
