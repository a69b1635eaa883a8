"""Exercising a deal's clean-up call: every loan left in the pool bought at par plus accrued interest.

Once the pool has paid down below the deal's call percent of its cut-off balance
(trusts.domain.cleanup_call decides, exactly), the servicer or the residual holder may buy the
whole pool. One append on the trust's stream records it: a PoolLoanRemoved (kind "repurchase")
for each loan left, priced and posted exactly as trusts.services.pool's removal prices and posts
one (the same code), so the close of the period holding the call date collects the proceeds as
repurchase principal and interest; and CleanUpCallExercised, with the figures the call was allowed
on and its price, under an idempotency key of the trust (a call is exercised once). That close then
retires every class (the waterfall writes off whatever principal the proceeds cannot pay).

The call date is hostile input, checked as every dated fact is (ledger.business_time): not in the
future (accrued interest to a day not yet come is not known), not inside a period the trust has
closed and paid, and after the trust's cut-off; the rules are asked again under the log's lock.
A loan's money recorded after the pool was priced moves a price, so the append is tried again.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from ledger.actors import Actor, describe
from ledger.bulk import among
from ledger.business_time import (
    BusinessDateError, CheckedFact, DatedFact, checked_fact, last_recorded_position, require_date,
)
from ledger.domain.records import NewEvent, RecordedEvent
from ledger.errors import ConcurrencyConflict, IdempotencyConflict
from ledger.models import Event, Stream
from ledger.services import append
from servicing.models import CLOSED_STATUSES, loan_stream
from servicing.services.loan_events import with_retries
from trusts import selectors
from trusts.domain.cleanup_call import CallEligibility, LoanPrice, call_price
from trusts.errors import TrustError
from trusts.events import CleanUpCallExercised
from trusts.models import PoolLoan, Trust, trust_stream
from trusts.services.pool import removal_priced

CALL_KIND = "repurchase"  # each loan leaves as a repurchase: the close collects it as repurchase proceeds


def call_key(trust_code: str) -> str:
    """The call's idempotency key: one clean-up call per trust, ever."""
    return f"cleanup-call:{trust_code}"


def exercise_cleanup_call(*, trust_code: str, call_date: date, acting_user: Actor) -> RecordedEvent:
    """Exercise the clean-up call of trust `trust_code` on `call_date`; returns the CleanUpCallExercised recorded."""
    trust, percent, dated = _checked(trust_code, call_date)
    stream = trust_stream(trust_code)

    def attempt() -> RecordedEvent:
        # The stream's version before the pool is read: a removal or a call committed meanwhile conflicts,
        # and the retry reads them.
        version = Stream.objects.filter(name=stream).values_list("version", flat=True).first() or 0
        priced_at = last_recorded_position()  # before the loans are priced: a loan's event after it moves a price
        removals, call = _priced(trust, call_date, percent, acting_user)

        def under_lock(last_position: int) -> None:
            dated.still_holds(last_position)  # a period closed since the check, say
            _unmoved(call.loans, priced_at)

        events = [*removals, call.new_event(effective_date=call_date, idempotency_key=call_key(trust_code))]
        return append(stream=stream, expected_version=version, events=events, acting_user=acting_user,
                      under_lock=under_lock)[-1]

    try:
        return with_retries(attempt, busy=lambda: TrustError(
            f"the pool of {trust_code} is busy; try the clean-up call again"))
    except IdempotencyConflict:
        # Another call of this trust committed between our read and our append.
        raise TrustError(_exercised_message(trust)) from None


def cleanup_call_quote(*, trust_code: str, call_date: date, acting_user: Actor) -> CleanUpCallExercised:
    """What exercising the call on `call_date` would record, every check passed (refused just as the
    exercise is), and nothing written: the admin's confirmation page shows it."""
    trust, percent, _ = _checked(trust_code, call_date)
    return _priced(trust, call_date, percent, acting_user)[1]


def _checked(trust_code: str, call_date: date) -> tuple[Trust, Decimal, CheckedFact]:
    """The trust, its call percent and the call date checked as a dated fact; each refusal names its figures."""
    trust = Trust.objects.filter(code=trust_code).first()
    if trust is None:
        raise TrustError(f"unknown trust {trust_code}")
    percent = selectors.deal_structure(trust).cleanup_call_percent
    if percent is None:
        raise TrustError(f"trust {trust_code}'s deal has no clean-up call")
    _check_not_exercised(trust)
    try:
        require_date(f"trust {trust_code}: the clean-up call's date", call_date)
    except BusinessDateError as error:
        raise TrustError(str(error)) from None
    if call_date <= trust.cutoff_date:
        raise TrustError(f"trust {trust_code}: clean-up call {call_date.isoformat()}: the trust's cut-off is "
                         f"{trust.cutoff_date.isoformat()}; date the call after it")
    return trust, percent, checked_fact(DatedFact("clean-up call", call_date, trust_code=trust_code),
                                        refused=TrustError)


def _priced(trust: Trust, call_date: date, percent: Decimal,
            acting_user: Actor) -> tuple[list[NewEvent], CleanUpCallExercised]:
    """Every loan left priced and removed as a repurchase (trusts.services.pool's removal, not appended), and
    the call's fact; refused when the call is already exercised, no loan is left or the pool is not small enough."""
    _check_not_exercised(trust)
    loans = _loans_left(trust)
    if not loans:
        raise TrustError(f"trust {trust.code} has no loans left in its pool for a clean-up call to buy")
    removals = [removal_priced(trust, loan, call_date, kind=CALL_KIND,
                               reason=f"clean-up call exercised on {call_date.isoformat()}") for loan in loans]
    price = call_price([LoanPrice(loan, p.principal_cents, p.interest_cents) for loan, (_, p) in zip(loans, removals)])
    eligibility = CallEligibility(pool_balance_cents=sum(p.balance_cents for _, p in removals),
                                  cutoff_balance_cents=_cutoff_balance(trust), percent=percent)
    problem = eligibility.problem()
    if problem:
        raise TrustError(f"trust {trust.code}: clean-up call {call_date.isoformat()} refused: {problem}")
    call = CleanUpCallExercised(
        trust=trust.code, call_date=call_date, pool_balance_cents=eligibility.pool_balance_cents,
        cutoff_balance_cents=eligibility.cutoff_balance_cents, percent=percent, loans=price.loans,
        price_cents=price.principal_cents, interest_cents=price.interest_cents, exercised_by=describe(acting_user))
    return [event for event, _ in removals], call


def _check_not_exercised(trust: Trust) -> None:
    if selectors.cleanup_call_date(trust) is not None:
        raise TrustError(_exercised_message(trust))


def _exercised_message(trust: Trust) -> str:
    day = selectors.cleanup_call_date(trust)
    on = f" on {day.isoformat()}" if day else ""
    return f"trust {trust.code}'s clean-up call was already exercised{on}; a call is exercised once"


def _loans_left(trust: Trust) -> list[str]:
    """The loans still in the pool, in loan-number order; a closed loan (paid off, liquidated, charged off)
    has left it by its own events and is not bought."""
    return list(PoolLoan.objects.filter(trust=trust, removed_on__isnull=True)
                .exclude(loan__position__status__in=CLOSED_STATUSES)
                .order_by("loan_id").values_list("loan_id", flat=True))


def _cutoff_balance(trust: Trust) -> int:
    """The pool's cut-off balance: every loan sold into it, at its cut-off balance (removed ones too)."""
    return sum(PoolLoan.objects.filter(trust=trust).values_list("cutoff_balance_cents", flat=True))


def _unmoved(loans: Sequence[str], since: int) -> None:
    """Under the log's lock: no event of these loans recorded since the pool was priced (a payment would
    change a price). One moved sends the attempt round again, from a fresh read."""
    moved = (Event.objects.filter(stream__in=among([loan_stream(loan) for loan in loans]), position__gt=since)
             .values_list("stream", flat=True).first())
    if moved is not None:
        raise ConcurrencyConflict(moved, None, 0)
