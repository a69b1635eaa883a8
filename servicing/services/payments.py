"""Posting a payment: money received on a loan, split by the application order, or a payoff.

The split of money is `servicing.domain.payment_application` and `servicing.domain.payoff_quotes`
(pure); this module reads the loan's position, asks them, and records the
result as one event on the loan's stream (a class of `servicing.events`)
with balanced postings, the period's `collections` amounts and the decision:
how the money was applied, which the LoanPosition projection folds.

Rules kept here:
- A bank reference posts once (`servicing.services.payment_requests`): posting
  the same reference again with the same loan, amount, date and kind returns
  the original (already_posted); with anything different it is refused,
  naming the reference.
- Optimistic concurrency: read the position and its stream version, compute,
  append at that version; if another writer got there first, read again and
  recompute (`with_retries`, up to MAX_ATTEMPTS times, then LoanBusy).
- A payment that covers the payoff quote for its day is a payoff (LoanPaidOff,
  with any excess refunded: BorrowerRefundPaid). A payment that would clear the
  principal but not the accrued interest is refused rather than leaving a loan
  at zero principal still owing interest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from ledger.errors import IdempotencyConflict
from ledger.domain.money import dollars
from ledger.domain.records import NewEvent, PostingLine, RecordedEvent
from ledger.actors import Actor
from ledger.services import UnderLock
from servicing.domain import accounts
from servicing.events import Collections, LoanPaidOff, PaymentApplied, PaymentPosted, loan_fact
from servicing.models import LoanPosition
from servicing.domain.payment_application import PaymentApplication, apply_payment, is_payoff
from servicing.domain.payment_batch import PaymentParts, application_of
from servicing.domain.payoff_quotes import PayoffSettlement, payoff_quote
from servicing.services.loan_events import append_at, open_position, with_retries
from servicing.services.payment_requests import (
    MAX_ATTEMPTS, DuplicateReference, LoanBusy, PaymentRefused, PaymentRequest, check_received_on, payment_terms,
    recorded,
)
from servicing.services.payoff import money_position, payoff_events


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
        return self.event.event_type == LoanPaidOff.event_type

    @property
    def parts(self) -> dict:
        """The split as recorded in the event (also for a payment posted before), as payload values."""
        return loan_fact(self.event).to_payload()["payoff" if self.paid_off else "application"]


@transaction.atomic
def payment_post(*, loan_number: str, amount_cents: int, received_on: date, reference: str,
                 principal_only: bool = False, acting_user: Actor) -> PaymentResult:
    """Record money received on a loan: a payment split by the application order, or a payoff."""
    request = payment_terms(loan_number, amount_cents, received_on, reference, principal_only)
    # Under the lock, the date is checked again only if what the dated rules read (a trust's cut-off, a
    # removal, a closed period) was recorded since this check.
    dates_hold = check_received_on(loan_number, received_on).still_holds
    try:
        return with_retries(lambda: _post_once(request, acting_user, dates_hold), attempts=MAX_ATTEMPTS,
                            busy=lambda: LoanBusy(loan_number))
    except IdempotencyConflict:
        # Another writer recorded the reference (on another loan) between our check and our append.
        return _already_posted(recorded(request.idempotency_key), request)


def _already_posted(original: RecordedEvent, request: PaymentRequest) -> PaymentResult:
    if not request.matches(original):
        raise DuplicateReference(request.reference, original, request)
    return PaymentResult(loan_number=request.loan_number, reference=request.reference, event=original,
                         already_posted=True, refund_event=recorded(f"refund:{request.reference}"))


def _post_once(request: PaymentRequest, acting_user: Actor, dates_hold: UnderLock) -> PaymentResult:
    # Checked on every attempt: a concurrent writer may have posted this very reference meanwhile.
    original = recorded(request.idempotency_key)
    if original is not None:
        return _already_posted(original, request)
    worked_out = payment_worked_out(open_position(request.loan_number), request)
    return worked_out.result(append_at(worked_out.position, worked_out.events, acting_user, dates_hold))


@dataclass(frozen=True)
class PaymentWorkedOut:
    """A payment worked out on a position, not yet recorded: its events and the split behind them."""

    position: LoanPosition
    request: PaymentRequest
    events: list[NewEvent]
    application: PaymentApplication | None = None
    settlement: PayoffSettlement | None = None

    def result(self, recorded: list[RecordedEvent]) -> PaymentResult:
        """The payment as recorded by appending `events` (its own first, then any refund)."""
        return PaymentResult(
            loan_number=self.request.loan_number, reference=self.request.reference, event=recorded[0],
            already_posted=recorded[0].version != self.position.stream_version + 1,
            application=self.application, settlement=self.settlement,
            refund_event=recorded[1] if len(recorded) > 1 else None,
        )


def payment_worked_out(position: LoanPosition, request: PaymentRequest) -> PaymentWorkedOut:
    """The events that record `request` on the loan's open position; refuses what cannot be posted."""
    loan = request.loan_number
    # Dates were checked by the one business-time rule (check_received_on): not ahead of today, not before
    # boarding, not the seller's or the buyer's money.
    received_on = request.received_on
    amount = request.amount_cents
    for_payoff = money_position(position, for_payoff=True)
    if is_payoff(position=for_payoff, amount_cents=amount, received_on=received_on):
        events, settlement = payoff_events(position=position, request=request)
        return PaymentWorkedOut(position, request, events, settlement=settlement)
    # The same position unless the servicer advanced escrow (money_position): then built without the netting.
    money = money_position(position) if position.escrow_advance_cents else for_payoff
    application = apply_payment(position=money, amount_cents=amount, received_on=received_on,
                                principal_only=request.principal_only)
    if application.position_after.principal_balance_cents == 0:
        quote = payoff_quote(position=for_payoff, as_of=received_on)
        raise PaymentRefused(
            f"loan {loan}: {dollars(amount)} would clear the principal but is {dollars(quote.total_cents - amount)} "
            f"short of the payoff of {dollars(quote.total_cents)} on {received_on.isoformat()} (accrued interest, "
            "charges and fees); collect the payoff amount instead"
        )
    return PaymentWorkedOut(position, request, [_payment_event(position, application, request)],
                            application=application)


def ordinary_payment_worked_out(position: LoanPosition, request: PaymentRequest) -> PaymentWorkedOut | None:
    """`payment_worked_out` for an ordinary payment, by the batch math on the row as read; None for any other.

    `servicing.domain.payment_batch` splits it without building and re-checking money positions; a payoff,
    a payment it would refuse, or one of principal only (never in a file) is for `payment_worked_out`.
    The same events either way (tests/unit/servicing/test_payment_batch.py).
    """
    if request.principal_only:
        return None
    parts = application_of(position, request.amount_cents, request.received_on)
    if parts is None:
        return None
    return PaymentWorkedOut(position, request, [_posted_event(position.loan_id, parts, request)])


def _payment_event(position: LoanPosition, app: PaymentApplication, request: PaymentRequest) -> NewEvent:
    """PaymentPosted: cash in, credited to what the application paid; the escrow part repays any advance first."""
    advance_repaid = min(position.escrow_advance_cents, app.escrow_cents)
    parts = PaymentParts(
        amount_cents=app.amount_cents, received_on=app.received_on, interest_cents=app.interest_cents,
        principal_cents=app.principal_cents, escrow_cents=app.escrow_cents, late_charges_cents=app.late_charges_cents,
        fees_cents=app.fees_cents, curtailment_cents=app.curtailment_cents, to_suspense_cents=app.to_suspense_cents,
        from_suspense_cents=app.from_suspense_cents, installments_paid=app.installments_paid,
        due_dates_paid=app.due_dates_paid, next_due_date_before=position.next_due_date,
        next_due_date_after=app.position_after.next_due_date, escrow_advance_repaid_cents=advance_repaid,
        escrow_deposit_cents=app.escrow_cents - advance_repaid,
    )
    return _posted_event(position.loan_id, parts, request)


def _posted_event(loan: str, app: PaymentParts, request: PaymentRequest) -> NewEvent:
    """The PaymentPosted event of a payment's parts, with its balanced postings."""
    advance_repaid, escrow_deposit = app.escrow_advance_repaid_cents, app.escrow_deposit_cents
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
        loan_number=request.loan_number, reference=request.reference, amount_cents=request.amount_cents,
        received_on=app.received_on, principal_only=request.principal_only,
        application=PaymentApplied(
            interest_cents=app.interest_cents, principal_cents=app.principal_cents,
            curtailment_cents=app.curtailment_cents, escrow_cents=app.escrow_cents,
            escrow_advance_repaid_cents=advance_repaid, escrow_deposit_cents=escrow_deposit,
            late_charges_cents=app.late_charges_cents, fees_cents=app.fees_cents,
            to_suspense_cents=app.to_suspense_cents, from_suspense_cents=app.from_suspense_cents,
            installments_paid=app.installments_paid, due_dates_paid=app.due_dates_paid,
            next_due_date_before=app.next_due_date_before, next_due_date_after=app.next_due_date_after,
        ),
        collections=Collections(interest_cents=app.interest_cents, scheduled_principal_cents=app.principal_cents,
                                curtailment_cents=app.curtailment_cents),
    )
    return fact.new_event(effective_date=app.received_on, postings=tuple(PostingLine(a, c) for a, c in lines if c),
                          idempotency_key=request.idempotency_key)
