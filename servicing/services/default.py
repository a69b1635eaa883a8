"""Default: foreclosure, REO, liquidation and charge-off, ending a loan that will not be repaid.

The statuses run active -> foreclosure -> reo -> liquidated, or to charged
off without a sale. Policies, and why:
- Foreclosure starts only when the loan is more than 120 days delinquent
  (Regulation X, 12 CFR 1024.41(f)), counted in calendar days from the
  oldest unpaid due date.
- REO is reached only from foreclosure, not before the foreclosure began.
  No postings: the debt stays on the loan's accounts until the property is
  sold; the sale realizes the loss.
- Liquidation (from foreclosure, a third-party sale at auction, or REO):
  the funds are the gross sale proceeds plus what the servicer holds for
  the borrower (escrow and suspense, applied to the debt on default). They
  pay, in order: liquidation costs (reimbursed to the servicer), escrow
  advances, accrued interest (30/360 from the paid-through date, the first
  of the month before the next due date, to the sale day, half-up once),
  principal, the deferred (non-interest-bearing) principal of a deferral or
  modification, late charges and fees; anything left belongs to the borrower
  (credited to the loan's refund account). Unpaid principal is the realized
  loss (debit realized_loss, credit principal, so principal ends at zero);
  so is the deferred principal not recovered (credit deferred_principal).
  Advances not recovered are the servicer's loss (NONRECOVERABLE_ADVANCES);
  late charges and fees not recovered are reversed out of income. Unpaid
  interest was never booked (interest is recognized when collected), so it
  needs no entry. Every loan account but realized_loss, interest and
  refund ends at zero.
- Charge-off: the same split with no sale proceeds and no costs, from
  foreclosure, REO, or an active loan at least 180 days delinquent (the
  FFIEC uniform retail classification policy for residential mortgages).
- The automatic stay of an open bankruptcy case (servicing.services.bankruptcy)
  refuses a foreclosure start, an REO acquisition and a liquidation dated
  while it is in effect; a charge-off (accounting, not collection) is not stayed.
- Each is recorded once per loan (idempotency keys "liquidation:{loan}",
  "charge-off:{loan}").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction

from ledger.actors import Actor
from ledger.business_time import CheckedFact
from ledger.models import Event
from ledger.domain.money import CentsError, require_cents
from ledger.domain.records import NewEvent, PostingLine, RecordedEvent
from servicing.domain import accounts
from servicing.errors import ServicingError
from servicing.models import LoanPosition, LoanStatus, loan_stream
from servicing.domain.loan_terms import steps_from_json
from servicing.domain.payoff_quotes import days_30_360, payoff_interest_cents
from servicing.services.bankruptcy import require_no_stay
from servicing.services.delinquency import loan_days_delinquent
from servicing.events import Collections, ForeclosureStarted, LoanChargedOff, LoanLiquidated, ReoAcquired
from servicing.services.loan_events import append_at, dated_loan_fact, open_position, require_status, with_retries

FORECLOSURE_MIN_DAYS = 120  # Regulation X: no first filing until MORE than this many days delinquent
CHARGE_OFF_MIN_DAYS = 180
NONRECOVERABLE_ADVANCES = "servicer:expense:nonrecoverable_advances"


class DefaultActionRefused(ServicingError):
    """A default action that the loan's delinquency, dates or amounts do not allow."""

    def __init__(self, loan_number: str, reason: str):
        super().__init__(f"loan {loan_number}: {reason}")


@transaction.atomic
def foreclosure_start(*, loan_number: str, started_on: date, acting_user: Actor) -> RecordedEvent:
    """Refer the loan to foreclosure (status foreclosure); refused until more than 120 days delinquent."""
    dated = dated_loan_fact(loan_number, "foreclosure start", started_on)
    def attempt():
        position = open_position(loan_number, action="start foreclosure on")
        require_status(position, action="start foreclosure", allowed=(LoanStatus.ACTIVE,))
        require_no_stay(loan_number, on=started_on, action="start foreclosure")
        days = loan_days_delinquent(position, started_on)
        if days <= FORECLOSURE_MIN_DAYS:
            earliest = position.next_due_date + timedelta(days=FORECLOSURE_MIN_DAYS + 1)
            raise DefaultActionRefused(
                loan_number, f"is {days} days delinquent on {started_on.isoformat()}; Regulation X forbids "
                f"starting foreclosure before it is more than {FORECLOSURE_MIN_DAYS} days delinquent "
                f"(earliest {earliest.isoformat()} if still unpaid)")
        fact = ForeclosureStarted(started_on=started_on, days_delinquent=days, next_due_date=position.next_due_date)
        return _append_one(position, fact.new_event(effective_date=started_on), acting_user, dated)

    return with_retries(attempt)


@transaction.atomic
def reo_acquire(*, loan_number: str, acquired_on: date, acting_user: Actor) -> RecordedEvent:
    """Record the property acquired by foreclosure (status reo); only from foreclosure."""
    dated = dated_loan_fact(loan_number, "REO acquisition", acquired_on)
    def attempt():
        position = open_position(loan_number, action="acquire as REO")
        require_status(position, action="acquire it as REO", allowed=(LoanStatus.FORECLOSURE,))
        require_no_stay(loan_number, on=acquired_on, action="acquire it as REO")
        started = (Event.objects.filter(stream=loan_stream(loan_number), event_type=ForeclosureStarted.event_type)
                   .order_by("-version").values_list("effective_date", flat=True).first())
        if started and acquired_on < started:
            raise DefaultActionRefused(loan_number, f"REO acquisition on {acquired_on.isoformat()} is before "
                                       f"foreclosure started on {started.isoformat()}")
        fact = ReoAcquired(acquired_on=acquired_on, foreclosure_started_on=started)
        return _append_one(position, fact.new_event(effective_date=acquired_on), acting_user, dated)

    return with_retries(attempt)


@dataclass(frozen=True)
class DispositionSplit:
    """How the funds of a liquidation or charge-off pay the loan's debts, and what is lost."""

    gross_proceeds_cents: int
    escrow_applied_cents: int
    suspense_applied_cents: int
    costs_cents: int
    costs_paid_cents: int
    advance_recovered_cents: int
    accrual_start: date
    interest_days: int
    interest_due_cents: int
    interest_cents: int
    principal_balance_cents: int
    principal_recovered_cents: int
    late_charges_recovered_cents: int
    fees_recovered_cents: int
    refund_to_borrower_cents: int
    realized_loss_cents: int
    advance_written_off_cents: int
    late_charges_written_off_cents: int
    fees_written_off_cents: int
    deferred_recovered_cents: int = 0
    deferred_lost_cents: int = 0


def disposition_split(position: LoanPosition, *, on: date, gross_proceeds_cents: int,
                      costs_cents: int) -> DispositionSplit:
    """Apply sale proceeds and funds held to costs, advances, interest, principal, charges, fees (pure)."""
    accrual_start = position.next_due_date - relativedelta(months=1)
    days = days_30_360(start=accrual_start, end=on)
    # As a payoff accrues it: at the rate in force each day (an ARM's changes on its terms timeline).
    accrued = payoff_interest_cents(principal_cents=position.principal_balance_cents, note_rate=position.note_rate,
                                    timeline=steps_from_json(position.terms_changes), start=accrual_start, end=on)
    interest_due = max(accrued, 0)  # a loan paid ahead owes none; its credit is lost with the sale
    left = gross_proceeds_cents + position.escrow_balance_cents + position.suspense_cents
    paid = []
    deferred_owed = position.deferred_principal_cents
    for owed in (costs_cents, position.escrow_advance_cents, interest_due, position.principal_balance_cents,
                 deferred_owed, position.late_charges_due_cents, position.fees_due_cents):
        paid.append(min(owed, left))
        left -= paid[-1]
    costs, advance, interest, principal, deferred, late, fees = paid
    return DispositionSplit(
        gross_proceeds_cents=gross_proceeds_cents, escrow_applied_cents=position.escrow_balance_cents,
        suspense_applied_cents=position.suspense_cents, costs_cents=costs_cents, costs_paid_cents=costs,
        advance_recovered_cents=advance, accrual_start=accrual_start, interest_days=days,
        interest_due_cents=interest_due, interest_cents=interest,
        principal_balance_cents=position.principal_balance_cents, principal_recovered_cents=principal,
        late_charges_recovered_cents=late, fees_recovered_cents=fees, refund_to_borrower_cents=left,
        realized_loss_cents=position.principal_balance_cents - principal,
        advance_written_off_cents=position.escrow_advance_cents - advance,
        late_charges_written_off_cents=position.late_charges_due_cents - late,
        fees_written_off_cents=position.fees_due_cents - fees,
        deferred_recovered_cents=deferred, deferred_lost_cents=deferred_owed - deferred,
    )


def disposition_postings(loan_number: str, split: DispositionSplit) -> tuple[PostingLine, ...]:
    """The double entry of a disposition: funds in, debts paid, the loss and write-offs booked."""
    s, a = split, accounts
    lines = [
        (a.CUSTODIAL_CASH, s.gross_proceeds_cents), (a.escrow(loan_number), s.escrow_applied_cents),
        (a.suspense(loan_number), s.suspense_applied_cents), (a.LIQUIDATION_COSTS, -s.costs_paid_cents),
        (a.escrow_advance(loan_number), -s.advance_recovered_cents), (a.interest(loan_number), -s.interest_cents),
        (a.principal(loan_number), -s.principal_recovered_cents),
        (a.late_charges(loan_number), -s.late_charges_recovered_cents),
        (a.fees(loan_number), -s.fees_recovered_cents), (a.borrower_refund(loan_number), -s.refund_to_borrower_cents),
        (a.realized_loss(loan_number), s.realized_loss_cents), (a.principal(loan_number), -s.realized_loss_cents),
        (a.deferred_principal(loan_number), -s.deferred_recovered_cents),
        (a.realized_loss(loan_number), s.deferred_lost_cents),
        (a.deferred_principal(loan_number), -s.deferred_lost_cents),
        (NONRECOVERABLE_ADVANCES, s.advance_written_off_cents),
        (a.escrow_advance(loan_number), -s.advance_written_off_cents),
        (a.LATE_CHARGE_INCOME, s.late_charges_written_off_cents),
        (a.late_charges(loan_number), -s.late_charges_written_off_cents),
        (a.FEE_INCOME, s.fees_written_off_cents), (a.fees(loan_number), -s.fees_written_off_cents),
    ]
    return tuple(PostingLine(account, cents) for account, cents in lines if cents)


@transaction.atomic
def loan_liquidate(*, loan_number: str, liquidated_on: date, gross_proceeds_cents: int, costs_cents: int,
                   acting_user: Actor) -> RecordedEvent:
    """Record the sale of the property: proceeds split, the loss realized, status liquidated."""
    dated = dated_loan_fact(loan_number, "liquidation", liquidated_on)
    for name, value in (("gross proceeds", gross_proceeds_cents), ("costs", costs_cents)):
        try:
            require_cents(value, name)
        except CentsError as error:
            raise DefaultActionRefused(loan_number, str(error)) from None

    def attempt():
        position = open_position(loan_number, action="liquidate")
        require_status(position, action="liquidate it", allowed=(LoanStatus.FORECLOSURE, LoanStatus.REO))
        require_no_stay(loan_number, on=liquidated_on, action="liquidate it")
        return _dispose(position, LoanLiquidated, dated, f"liquidation:{loan_number}",
                        gross_proceeds_cents, costs_cents, acting_user)

    return with_retries(attempt)


@transaction.atomic
def loan_charge_off(*, loan_number: str, charged_off_on: date, acting_user: Actor) -> RecordedEvent:
    """Write the loan off without a sale: funds held apply, the rest of the principal is a realized loss."""
    dated = dated_loan_fact(loan_number, "charge-off", charged_off_on)
    def attempt():
        position = open_position(loan_number, action="charge off")
        require_status(position, action="charge it off",
                       allowed=(LoanStatus.ACTIVE, LoanStatus.FORECLOSURE, LoanStatus.REO))
        days = loan_days_delinquent(position, charged_off_on)
        if position.status == LoanStatus.ACTIVE and days < CHARGE_OFF_MIN_DAYS:
            raise DefaultActionRefused(
                loan_number, f"is {days} days delinquent on {charged_off_on.isoformat()}; an active loan is "
                f"charged off only at {CHARGE_OFF_MIN_DAYS} days or more")
        return _dispose(position, LoanChargedOff, dated, f"charge-off:{loan_number}", 0, 0, acting_user)

    return with_retries(attempt)


def _dispose(position, event_class, dated: CheckedFact, key, gross, costs, acting_user: Actor) -> RecordedEvent:
    """Record the disposition: the split is the decision; the fold clears the loan and books the loss."""
    on = dated.on
    split = disposition_split(position, on=on, gross_proceeds_cents=gross, costs_cents=costs)
    fact = event_class(
        on=on, status_before=str(position.status), **asdict(split),
        collections=Collections(interest_cents=split.interest_cents,
                                liquidation_principal_cents=split.principal_recovered_cents
                                + split.deferred_recovered_cents,
                                realized_loss_cents=split.realized_loss_cents + split.deferred_lost_cents),
    )
    postings = disposition_postings(position.loan_id, split)
    return _append_one(position, fact.new_event(effective_date=on, postings=postings, idempotency_key=key),
                       acting_user, dated)


def _append_one(position, event: NewEvent, acting_user: Actor, dated: CheckedFact) -> RecordedEvent:
    # The date checked again under the log's lock if a trust formed, a removal or a close was recorded since.
    return append_at(position, [event], acting_user, dated.still_holds)[0]
