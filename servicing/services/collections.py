"""Collections: payments posted, payoffs, returned payments, payment files and autopay drafts.

The split of money is `servicing.payment_application` and `servicing.payoff`
(pure); this module reads the loan's position, asks them, and records the
result as one event on the loan's stream (a class of `servicing.events`)
with balanced postings, the period's `collections` amounts and the decision:
how the money was applied, which the LoanPosition projection folds.

Rules kept here:
- A bank reference posts once: its event carries the idempotency key
  "payment:<reference>". Posting the same reference again with the same
  loan, amount, date and kind returns the original (already_posted); with
  anything different it is refused, naming the reference.
- Optimistic concurrency: read the position and its stream version, compute,
  append at that version; if another writer got there first, read again and
  recompute (up to MAX_ATTEMPTS times).
- A payment that covers the payoff quote for its day is a payoff (LoanPaidOff,
  with any excess refunded: BorrowerRefundPaid). A payment that would clear the
  principal but not the accrued interest is refused rather than leaving a loan
  at zero principal still owing interest.
- A returned payment (PaymentReturned) negates the original's postings and
  collections exactly and records the reversal of what the payment applied
  (see `_reversal`); a payoff is never returned automatically. Its payload
  names who asked for it and, under four-eyes, who approved it. The hooks of
  `servicing.return_hooks` run in the same transaction (trusts registers the
  true-up of a repurchase that priced the payment in).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import transaction

from ledger.actors import four_eyes_problem
from ledger.business_time import BusinessDateError, require_not_future
from ledger.business_time import today as business_today
from ledger.errors import ConcurrencyConflict, IdempotencyConflict
from ledger.hooks import reached
from ledger.models import Event
from ledger.money import CentsError, dollars, require_cents
from ledger.records import NewEvent, PostingLine, RecordedEvent, StreamAppend
from ledger.selectors import recorded_events
from ledger.services import append, append_batch
from servicing import accounts
from servicing.errors import FileRejected, LoanClosed, ServicingError, UnknownLoan
from servicing.events import (
    BALANCE_FIELDS, Collections, PaymentApplied, PaymentPosted, PaymentReturned, PaymentReversed,
    loan_fact, reversal_of,
)
from servicing.models import LoanPosition, LoanStatus, loan_stream
from servicing.payment_application import PaymentApplication, apply_payment, is_payoff
from servicing.payment_file import PaymentFileProblem, PaymentRow, parse_payment_file_bytes, reference_problem
from servicing.payoff import PayoffSettlement, payoff_quote
from servicing.return_hooks import payment_returned
from servicing.services.loan_events import dated_loan_fact, open_position, require_open, with_retries
from servicing.services.payoff import money_position, payoff_events

log = logging.getLogger(__name__)

# Eight writers on one loan lose at most seven rounds each; the margin covers a burst of more.
MAX_ATTEMPTS = 20
# Payments of a file computed and appended together: one read of positions, one append per chunk.
FILE_CHUNK = 2000


class PaymentRefused(ServicingError):
    """A payment or return that cannot be recorded as asked; the message names the loan and why."""


class DuplicateReference(PaymentRefused):
    def __init__(self, reference: str, original: RecordedEvent, asked: dict):
        p = loan_fact(original)
        super().__init__(
            f"reference {reference} was already used for {dollars(p.amount_cents)} to loan "
            f"{p.loan_number} received on {p.received_on.isoformat()} ({original.event_type}, position "
            f"{original.position}); this request is {dollars(asked['amount_cents'])} to loan {asked['loan_number']} "
            f"received on {asked['received_on']}: a new payment needs a new reference"
        )


class UnknownPayment(PaymentRefused):
    def __init__(self, loan_number: str, reference: str):
        super().__init__(f"loan {loan_number}: no payment with reference {reference} was posted to it")


class LoanBusy(ServicingError):
    def __init__(self, loan_number: str):
        super().__init__(f"loan {loan_number} kept changing while this was computed ({MAX_ATTEMPTS} attempts); "
                         "nothing was recorded, try again")


@dataclass(frozen=True)
class PaymentResult:
    """A payment as recorded: its event, and the split when it was computed now."""

    loan_number: str
    reference: str
    event: RecordedEvent
    already_posted: bool = False
    application: PaymentApplication | None = None
    settlement: PayoffSettlement | None = None
    refund_event: RecordedEvent | None = None

    @property
    def paid_off(self) -> bool:
        return self.event.event_type == "LoanPaidOff"

    @property
    def parts(self) -> dict:
        """The split as recorded in the event (also for a payment posted before), as payload values."""
        return loan_fact(self.event).to_payload()["payoff" if self.paid_off else "application"]


@dataclass(frozen=True)
class ReturnResult:
    loan_number: str
    reference: str
    event: RecordedEvent
    fee_cents: int


@transaction.atomic
def payment_post(*, loan_number: str, amount_cents: int, received_on: date, reference: str,
                 principal_only: bool = False, acting_user=None) -> PaymentResult:
    """Record money received on a loan: a payment split by the application order, or a payoff."""
    request = _payment_request(loan_number, amount_cents, received_on, reference, principal_only)
    try:
        return with_retries(lambda: _post_once(request, acting_user), **_busy(loan_number))
    except IdempotencyConflict:
        # Another writer recorded the reference (on another loan) between our check and our append.
        return _already_posted(_recorded(f"payment:{request['reference']}"), request)


def _payment_request(loan_number, amount_cents, received_on, reference, principal_only) -> dict:
    """The facts of the request as the event records them; refuses malformed input."""
    problem = reference_problem(reference)
    if problem:
        raise PaymentRefused(f"loan {loan_number}: {problem}")
    try:
        require_cents(amount_cents, "a payment's amount_cents", zero=False)
    except CentsError as error:
        raise PaymentRefused(f"loan {loan_number}: {error}") from None
    _check_received_on(loan_number, received_on)
    return {"loan_number": loan_number, "reference": reference.strip(), "amount_cents": amount_cents,
            "received_on": received_on.isoformat(), "principal_only": bool(principal_only)}


def _check_received_on(loan_number: str, received_on: object) -> None:
    """The one rule for dated facts (ledger.business_time), refused as a PaymentRefused.

    A date, not in the future, and whatever the upper apps registered: the trusts' rule
    refuses money dated on or before the cut-off of the trust the loan is in now (it is
    the seller's: a payment or curtailment posted late would lower the pool unremitted),
    or on or before the loan's removal from a pool (the buyer's: the removal's proceeds
    already paid that day's balance).
    """
    if not isinstance(received_on, date) or hasattr(received_on, "hour"):
        raise PaymentRefused(f"loan {loan_number}: received_on must be a date, got {received_on!r}")
    dated_loan_fact(loan_number, "payment received", received_on, refused=PaymentRefused)


def _require_past_date(loan_number: str, name: str, value: object) -> None:
    try:
        require_not_future(name, value)
    except BusinessDateError as error:
        raise PaymentRefused(f"loan {loan_number}: {error}") from None


def _recorded(key: str) -> RecordedEvent | None:
    found = recorded_events(Event.objects.filter(idempotency_key=key))
    return found[0] if found else None


def _same_request(original: RecordedEvent, request: dict) -> bool:
    """Whether the payment recorded under a reference is this request (same loan, amount, date and kind)."""
    if original.stream != loan_stream(request["loan_number"]):
        return False
    fact = loan_fact(original)
    asked = (request["loan_number"], request["reference"], request["amount_cents"],
             date.fromisoformat(request["received_on"]), request["principal_only"])
    return (fact.loan_number, fact.reference, fact.amount_cents, fact.received_on, fact.principal_only) == asked


def _already_posted(original: RecordedEvent, request: dict) -> PaymentResult:
    if not _same_request(original, request):
        raise DuplicateReference(request["reference"], original, request)
    return PaymentResult(loan_number=request["loan_number"], reference=request["reference"], event=original,
                         already_posted=True, refund_event=_recorded(f"refund:{request['reference']}"))


def _busy(loan_number: str) -> dict:
    """Retry settings for payments: many attempts, then a clear "loan busy" refusal."""
    return {"attempts": MAX_ATTEMPTS, "busy": lambda: LoanBusy(loan_number)}


def _post_once(request: dict, acting_user) -> PaymentResult:
    # Checked on every attempt: a concurrent writer may have posted this very reference meanwhile.
    original = _recorded(f"payment:{request['reference']}")
    if original is not None:
        return _already_posted(original, request)
    computed = _computed(open_position(request["loan_number"]), request)
    return computed.result(_append(computed.position, computed.events, acting_user))


@dataclass(frozen=True)
class _Computed:
    """A payment worked out on a position, not yet recorded: its events and the split behind them."""

    position: LoanPosition
    request: dict
    events: list[NewEvent]
    application: PaymentApplication | None = None
    settlement: PayoffSettlement | None = None

    def result(self, recorded: list[RecordedEvent]) -> PaymentResult:
        return PaymentResult(
            loan_number=self.request["loan_number"], reference=self.request["reference"], event=recorded[0],
            already_posted=recorded[0].version != self.position.stream_version + 1,
            application=self.application, settlement=self.settlement,
            refund_event=recorded[1] if len(recorded) > 1 else None,
        )


def _computed(position: LoanPosition, request: dict) -> _Computed:
    """The events that record `request` on the loan's open position; refuses what cannot be posted."""
    loan = request["loan_number"]
    # Dates were checked by the one business-time rule (_payment_request): not ahead of today, not before
    # boarding, not the seller's or the buyer's money.
    received_on = date.fromisoformat(request["received_on"])
    amount = request["amount_cents"]
    if is_payoff(position=money_position(position, for_payoff=True), amount_cents=amount, received_on=received_on):
        events, settlement = payoff_events(position=position, amount_cents=amount, received_on=received_on,
                                           reference=request["reference"], request=request)
        return _Computed(position, request, events, settlement=settlement)
    application = apply_payment(position=money_position(position), amount_cents=amount, received_on=received_on,
                                principal_only=request["principal_only"])
    if application.position_after.principal_balance_cents == 0:
        quote = payoff_quote(position=money_position(position, for_payoff=True), as_of=received_on)
        raise PaymentRefused(
            f"loan {loan}: {dollars(amount)} would clear the principal but is {dollars(quote.total_cents - amount)} "
            f"short of the payoff of {dollars(quote.total_cents)} on {received_on.isoformat()} (accrued interest, "
            "charges and fees); collect the payoff amount instead"
        )
    return _Computed(position, request, [_payment_event(position, application, request)], application=application)


def _append(position: LoanPosition, events: list[NewEvent], acting_user) -> list[RecordedEvent]:
    return append(stream=loan_stream(position.loan_id), expected_version=position.stream_version, events=events,
                  acting_user=acting_user)


def _payment_event(position: LoanPosition, app: PaymentApplication, request: dict) -> NewEvent:
    """PaymentPosted: cash in, credited to what the application paid; the escrow part repays any advance first."""
    loan = position.loan_id
    advance_repaid = min(position.escrow_advance_cents, app.escrow_cents)
    escrow_deposit = app.escrow_cents - advance_repaid
    lines = [
        (accounts.CUSTODIAL_CASH, app.amount_cents),
        (accounts.interest(loan), -app.interest_cents),
        (accounts.principal(loan), -(app.principal_cents + app.curtailment_cents)),
        (accounts.escrow_advance(loan), -advance_repaid),
        (accounts.escrow(loan), -escrow_deposit),
        (accounts.late_charges(loan), -app.late_charges_cents),
        (accounts.fees(loan), -app.fees_cents),
        (accounts.suspense(loan), app.from_suspense_cents - app.to_suspense_cents),
    ]
    fact = PaymentPosted(
        loan_number=request["loan_number"], reference=request["reference"], amount_cents=request["amount_cents"],
        received_on=app.received_on, principal_only=request["principal_only"],
        application=PaymentApplied(
            interest_cents=app.interest_cents, principal_cents=app.principal_cents,
            curtailment_cents=app.curtailment_cents, escrow_cents=app.escrow_cents,
            escrow_advance_repaid_cents=advance_repaid, escrow_deposit_cents=escrow_deposit,
            late_charges_cents=app.late_charges_cents, fees_cents=app.fees_cents,
            to_suspense_cents=app.to_suspense_cents, from_suspense_cents=app.from_suspense_cents,
            installments_paid=app.installments_paid, due_dates_paid=app.due_dates_paid,
            next_due_date_before=position.next_due_date, next_due_date_after=app.position_after.next_due_date,
        ),
        collections=Collections(interest_cents=app.interest_cents, scheduled_principal_cents=app.principal_cents,
                                curtailment_cents=app.curtailment_cents),
    )
    return fact.new_event(effective_date=app.received_on, postings=tuple(PostingLine(a, c) for a, c in lines if c),
                          idempotency_key=f"payment:{request['reference']}")


# --- Returned payments -----------------------------------------------------------------------------------


@transaction.atomic
def payment_return(*, loan_number: str, reference: str, returned_on: date, reason: str,
                   fee_cents: int | None = None, acting_user=None, requested_by=None) -> ReturnResult:
    """Record a payment the bank returned (NSF, stopped, closed account), plus a returned-payment fee.

    The fee defaults to settings.SERVICING_NSF_FEE_CENTS (0 when unset). Four eyes: either
    acting_user is the system (a `ledger.actors.SystemActor`, e.g. the demo) and requested_by is
    None, or requested_by is the staff member who asked for the return and acting_user the
    other, holding the approval permission, who approved it (approvals.acts.reversal_record);
    the event names both, and is recorded by the approver. A person alone, or nobody, is
    refused (PaymentRefused) before anything is read or written.
    """
    _require_four_eyes(loan_number, reference, requested_by=requested_by, acting_user=acting_user)
    reference, reason, fee = _return_terms(loan_number, reference, returned_on, reason, fee_cents)
    names = _signatories(requested_by=requested_by, acting_user=acting_user)

    def attempt() -> ReturnResult:
        # The position first, then the checks: a return recorded after this read moves the loan's
        # version, so this append conflicts, not the one computed on a position it already changed.
        position = LoanPosition.objects.filter(loan_id=loan_number).first()
        original = _returnable(loan_number, reference, returned_on)
        return _return_once(original, _returnable_position(original, position), returned_on, reason, fee,
                            acting_user, names)

    try:
        return with_retries(attempt, **_busy(loan_number))
    except IdempotencyConflict:
        # Another writer returned this payment (for another reason or fee) between our check and our
        # append: refuse as a return asked for afterwards is refused, "already returned", naming it.
        _returnable(loan_number, reference, returned_on)
        raise


def _require_four_eyes(loan_number: str, reference: str, *, requested_by, acting_user) -> None:
    # The system records on its own; a person only as the approver of another's request.
    asking, approving = (acting_user, None) if requested_by is None else (requested_by, acting_user)
    problem = four_eyes_problem(act=f"the return of payment {reference}", acting=asking,
                                approved_by=approving)
    if problem:
        raise PaymentRefused(f"loan {loan_number}: {problem}")


def payment_return_check(*, loan_number: str, reference: str, returned_on: date, reason: str,
                         fee_cents: int | None = None) -> RecordedEvent:
    """Refuse now what payment_return would refuse, recording nothing; answers the payment's event.

    For a return that waits for a second staff member's approval: the requester hears at once
    that the loan or the reference is unknown, the payment already returned, or that it cannot
    be returned on its own. The approval runs payment_return, which checks everything again.
    """
    if not LoanPosition.objects.filter(loan_id=loan_number).exists():
        raise UnknownLoan(loan_number)
    reference, _, fee = _return_terms(loan_number, reference, returned_on, reason, fee_cents)
    original = _returnable(loan_number, reference, returned_on)
    _reversal(_returnable_position(original), loan_fact(original), fee)
    return original


def _return_terms(loan_number: str, reference: str, returned_on: date, reason: str,
                  fee_cents: int | None) -> tuple[str, str, int]:
    """The return's reference, reason and fee, checked and cleaned; refuses a bad one."""
    problem = reference_problem(reference)
    if problem:
        raise PaymentRefused(f"loan {loan_number}: {problem}")
    reference = reference.strip()
    if not isinstance(reason, str) or not reason.strip():
        raise PaymentRefused(f"loan {loan_number}: give the bank's reason for returning payment {reference}")
    fee = getattr(settings, "SERVICING_NSF_FEE_CENTS", 0) if fee_cents is None else fee_cents
    try:
        require_cents(fee, "the returned-payment fee")
    except CentsError as error:
        raise PaymentRefused(f"loan {loan_number}: {error}") from None
    _require_past_date(loan_number, "returned_on", returned_on)
    return reference, reason.strip(), fee


def _signatories(*, requested_by, acting_user) -> dict[str, str | None]:
    """Who asked for a return and who approved it, by username, for the event's payload."""
    def name(user):
        return user.get_username() if getattr(user, "pk", None) else None

    if requested_by is None:
        return {"requested_by": name(acting_user), "approved_by": None}
    return {"requested_by": name(requested_by), "approved_by": name(acting_user)}


def _returnable(loan_number: str, reference: str, returned_on: date) -> RecordedEvent:
    """The payment's original event, if it can be returned; refuses otherwise."""
    original = _recorded(f"payment:{reference}")
    if original is None or original.stream != loan_stream(loan_number):
        raise UnknownPayment(loan_number, reference)
    if original.event_type == "LoanPaidOff":
        raise PaymentRefused(f"loan {loan_number}: payment {reference} paid the loan off; returning a payoff "
                             "needs a manual reinstatement of the loan")
    returned = _recorded(f"return:{reference}")
    if returned is not None:
        raise PaymentRefused(f"loan {loan_number}: payment {reference} was already returned on "
                             f"{returned.effective_date.isoformat()} (position {returned.position})")
    if returned_on < original.effective_date:
        raise PaymentRefused(f"loan {loan_number}: payment {reference} was received on "
                             f"{original.effective_date.isoformat()}, after the return date {returned_on.isoformat()}")
    return original


def _return_once(original: RecordedEvent, position: LoanPosition, returned_on: date, reason: str, fee: int,
                 acting_user, names: dict[str, str | None]) -> ReturnResult:
    payment = loan_fact(original)
    lines = [PostingLine(p.account, -p.amount_cents) for p in original.postings]
    if fee:
        lines += [PostingLine(accounts.fees(payment.loan_number), fee), PostingLine(accounts.FEE_INCOME, -fee)]
    fact = PaymentReturned(
        loan_number=payment.loan_number, reference=payment.reference, returned_on=returned_on, reason=reason,
        amount_cents=payment.amount_cents, received_on=payment.received_on,
        returned_event_position=original.position, fee_cents=fee, collections=payment.collections.negated(),
        reversal=_reversal(position, payment, fee), **names,
    )
    event = fact.new_event(effective_date=returned_on, postings=tuple(lines),
                           idempotency_key=f"return:{payment.reference}")
    recorded = _append(position, [event], acting_user)
    # In this attempt's savepoint: what the hooks record (a trust's true-up) commits with the return or not at all.
    payment_returned(recorded[0], original, acting_user)
    return ReturnResult(loan_number=payment.loan_number, reference=payment.reference, event=recorded[0],
                        fee_cents=fee)


def _returnable_position(original: RecordedEvent, position: LoanPosition | None = None) -> LoanPosition:
    """The loan's position (as read by the caller, or now), if the loan is still open to have a payment returned."""
    payment = loan_fact(original)
    loan, reference = payment.loan_number, payment.reference
    position = position or LoanPosition.objects.filter(loan_id=loan).first()
    if position is None:
        raise UnknownLoan(loan)
    if position.is_closed:
        raise PaymentRefused(f"loan {loan} is {position.status.replace('_', ' ')} since payment {reference}; "
                             "returning it needs a manual reinstatement of the loan")
    return position


def _reversal(position: LoanPosition, payment: PaymentPosted, fee: int) -> PaymentReversed:
    """What returning the payment gives back (`servicing.events.reversal_of`), refused when it cannot stand alone.

    Later events keep their effects. If a later event spent money this payment
    provided (suspense or escrow would go below zero), the return is refused:
    return the later payments first, newest first.
    """
    reversal = reversal_of(payment, next_due_date_now=position.next_due_date,
                           last_payment_standing=_last_payment_standing(payment.loan_number, payment.reference))
    fees = {"fees_due_cents": fee}  # the return's own fee is owed too
    negative = [name for name in BALANCE_FIELDS
                if getattr(position, name) + getattr(reversal, name) + fees.get(name, 0) < 0]
    if negative:
        raise PaymentRefused(
            f"loan {payment.loan_number}: payment {payment.reference} cannot be returned on its own: later activity "
            f"used money it provided ({', '.join(negative)} would go below zero); return the later payments "
            "first, newest first, or reverse by hand"
        )
    return reversal


def _last_payment_standing(loan_number: str, returning: str) -> date | None:
    """The latest received_on of the loan's payments not returned, None when none stand."""
    rows = recorded_events(Event.objects.filter(stream=loan_stream(loan_number),
                                                event_type__in=("PaymentPosted", "PaymentReturned")))
    posted, returned = {}, {returning}
    for event in rows:
        fact = loan_fact(event)
        if isinstance(fact, PaymentReturned):
            returned.add(fact.reference)
        else:
            posted[fact.reference] = fact.received_on
    standing = [day for ref, day in posted.items() if ref not in returned]
    return max(standing) if standing else None


# --- Payment files -------------------------------------------------------------------------------------


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
    for row in rows:
        problem = _row_problem(row, positions.get(row.loan_number), originals.get(f"payment:{row.reference}"))
        if problem == "already posted":
            preview.already_posted.append(row)
        elif problem:
            preview.problems.append(PaymentFileProblem(row.line, problem))
        else:
            preview.to_post.append(row)
    preview.problems.sort(key=lambda p: p.line)
    return preview


def _row_problem(row: PaymentRow, position: LoanPosition | None, original: RecordedEvent | None) -> str | None:
    if original is not None:
        request = {"loan_number": row.loan_number, "reference": row.reference, "amount_cents": row.amount_cents,
                   "received_on": row.received_on.isoformat(), "principal_only": False}
        return "already posted" if _same_request(original, request) else str(
            DuplicateReference(row.reference, original, request))
    if position is None:
        return str(UnknownLoan(row.loan_number))
    if position.is_closed:
        return str(LoanClosed(row.loan_number, position.status))
    if row.received_on < position.loan.boarded_on:
        return (f"loan {row.loan_number}: received_on {row.received_on.isoformat()} is before the loan was boarded "
                f"on {position.loan.boarded_on.isoformat()}")
    try:
        _check_received_on(row.loan_number, row.received_on)  # e.g. money on or before the trust's cut-off
    except PaymentRefused as refused:
        return str(refused)
    return None


def payment_file_import(*, raw: bytes, acting_user=None, today: date | None = None) -> PaymentFileResult:
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
def _post_file(preview: PaymentFilePreview, acting_user) -> PaymentFileResult:
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


def _post_chunk(rows: list[PaymentRow], acting_user) -> tuple[list[PaymentResult], list[PaymentFileProblem]]:
    """Post a chunk's payments in one append: positions read in one query, events written in one batch.

    If another writer moved one of these loans (or posted one of these
    references) since they were read, the batch is undone to its savepoint
    and the chunk posts row by row, each payment with its own retries.
    """
    positions = {p.loan_id: p for p in LoanPosition.objects.filter(loan_id__in=[r.loan_number for r in rows])
                 .select_related("loan")}
    computed, problems = [], []
    for row in rows:
        try:
            request = _payment_request(row.loan_number, row.amount_cents, row.received_on, row.reference, False)
            computed.append(_computed(require_open(positions.get(row.loan_number), row.loan_number), request))
        except ServicingError as refused:
            problems.append(PaymentFileProblem(row.line, str(refused)))
    if not computed:
        return [], problems
    try:
        with transaction.atomic():
            recorded = append_batch(appends=[
                StreamAppend(loan_stream(c.position.loan_id), c.position.stream_version, tuple(c.events))
                for c in computed
            ], acting_user=acting_user)
    except (ConcurrencyConflict, IdempotencyConflict):
        return _post_rows(rows, acting_user, problems)
    by_stream: dict[str, list[RecordedEvent]] = {}
    for event in recorded:
        by_stream.setdefault(event.stream, []).append(event)
    return [c.result(by_stream[loan_stream(c.position.loan_id)]) for c in computed], problems


def _post_rows(rows: list[PaymentRow], acting_user,
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


# --- Autopay -------------------------------------------------------------------------------------------


@dataclass
class AutopayResult:
    as_of: date
    posted: list[str] = field(default_factory=list)  # references
    already_drafted: list[str] = field(default_factory=list)  # loan numbers
    failed: list[str] = field(default_factory=list)  # "loan: reason"


def autopay_drafts_post(*, as_of: date, acting_user=None) -> AutopayResult:
    """Draft one installment (P&I plus escrow) from each active autopay loan due on or before `as_of`.

    The reference is "autopay:<loan>:<due date>", so a draft posts once; a
    loan drafted on `as_of` already is skipped, so a second run on the same
    day drafts nothing even for a loan still behind. Not one transaction on
    purpose: each draft commits on its own (payment_post is atomic), so one
    refused loan does not hold back the others, and a re-run is safe.
    """
    require_not_future("autopay drafts as of", as_of)
    result = AutopayResult(as_of=as_of)
    due = LoanPosition.objects.filter(loan__autopay=True, status=LoanStatus.ACTIVE, next_due_date__lte=as_of)
    drafted_today = set(Event.objects.filter(idempotency_key__startswith="payment:autopay:", effective_date=as_of)
                        .values_list("stream", flat=True))
    for position in due.order_by("loan_id"):
        loan = position.loan_id
        reference = f"autopay:{loan}:{position.next_due_date.isoformat()}"
        if loan_stream(loan) in drafted_today or Event.objects.filter(idempotency_key=f"payment:{reference}").exists():
            result.already_drafted.append(loan)
            continue
        try:
            payment_post(loan_number=loan, amount_cents=position.payment_pi_cents + position.escrow_monthly_cents,
                         received_on=as_of, reference=reference, acting_user=acting_user)
            result.posted.append(reference)
        except ServicingError as refused:
            log.warning("autopay draft %s not posted: %s", reference, refused)
            result.failed.append(f"{loan}: {refused}")
    return result
