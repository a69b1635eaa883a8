"""Taking a loan out of a trust's pool: a repurchase by the seller or a buyout by the servicer.

A removal is a new event on the trust's stream, never an edit: PoolLoanRemoved
records the loan's unpaid principal on the removal date and the proceeds the
buyer pays into the trust's cash (principal at par plus accrued interest).
The month-end close counts those proceeds as the period's collections, so
nothing else is posted here. Once removed, the loan may go into another trust
whose cut-off is on or after the removal date (see PoolLoan's interval convention).

The removal date passes the one rule for dated facts (ledger.business_time):
not in the future (the proceeds are the interest accrued up to that day, which
cannot be known ahead), and not inside a period the trust has already closed
and paid (the rule remittance registers): a removal there would pass the loan's
principal to the holders a second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.business_time import BusinessDateError, DatedFact, dated_fact_check
from ledger.models import Stream
from ledger.records import NewEvent, PostingLine, RecordedEvent
from ledger.selectors import account_balance
from ledger.services import append
from servicing import accounts as loan_accounts
from servicing.models import CLOSED_STATUSES, LoanPosition
from servicing.services.loan_events import status_words, with_retries
from servicing.services.payoff import payoff_quote_get
from trusts.errors import TrustError
from trusts.models import PoolLoan, Trust, trust_stream

REMOVAL_KINDS = ("repurchase", "buyout")
# PoolLoan.removal_reason holds the reason; a longer one would not fit the projection.
REASON_MAX_LENGTH = 200
REPURCHASE_CLEARING = "clearing:repurchases"  # the buyer's side of the proceeds


@dataclass(frozen=True, slots=True)
class Proceeds:
    """What the buyer pays for the loan: its unpaid principal at par and the accrued interest."""

    balance_cents: int
    principal_cents: int
    interest_cents: int

    @property
    def total_cents(self) -> int:
        return self.principal_cents + self.interest_cents


def pool_loan_remove(*, trust_code: str, loan_number: str, removed_on: date, kind: str, reason: str,
                     acting_user=None) -> RecordedEvent:
    """Record a loan leaving the trust's pool on `removed_on`, bought out by the seller or the servicer."""
    reason = _checked_reason(kind, reason)
    trust = Trust.objects.filter(code=trust_code).first()
    if trust is None:
        raise TrustError(f"unknown trust {trust_code}")
    try:
        dated_fact_check(DatedFact("removal", removed_on, loan_number=loan_number, trust_code=trust_code))
    except BusinessDateError as error:
        raise TrustError(str(error)) from None
    if removed_on < trust.cutoff_date:
        raise TrustError(f"trust {trust_code}'s cut-off date is {trust.cutoff_date.isoformat()}; "
                         f"a loan cannot leave its pool before it, on {removed_on.isoformat()}")
    stream = trust_stream(trust_code)

    def attempt() -> RecordedEvent:
        # Read the version before the pool: a removal committed after this read makes the append conflict,
        # and the retry then finds the loan already removed.
        version = Stream.objects.filter(name=stream).values_list("version", flat=True).first() or 0
        _check_in_pool(trust, loan_number)
        event = _removal_event(trust, loan_number, removed_on, kind, reason, _proceeds(loan_number, removed_on))
        return append(stream=stream, expected_version=version, events=[event], acting_user=acting_user)[0]

    return with_retries(attempt, busy=lambda: TrustError(f"the pool of {trust_code} is busy; try the removal again"))


def _checked_reason(kind: str, reason: str) -> str:
    if kind not in REMOVAL_KINDS:
        raise TrustError(f"removal kind {kind!r} must be {' or '.join(REMOVAL_KINDS)}")
    reason = (reason or "").strip()
    if not reason:
        raise TrustError("a removal needs a reason (e.g. the breached representation)")
    if len(reason) > REASON_MAX_LENGTH:
        raise TrustError(f"the reason is {len(reason)} characters; keep it to {REASON_MAX_LENGTH}")
    return reason


def _check_in_pool(trust: Trust, loan_number: str) -> None:
    membership = PoolLoan.objects.filter(trust=trust, loan_id=loan_number).order_by("-transferred_on").first()
    if membership is None:
        raise TrustError(f"loan {loan_number} is not in the pool of trust {trust.code}")
    if membership.removed_on is not None:
        raise TrustError(f"loan {loan_number} was already removed from the pool of trust {trust.code} "
                         f"on {membership.removed_on.isoformat()}")
    status = LoanPosition.objects.filter(loan_id=loan_number).values_list("status", flat=True).first()
    if status in CLOSED_STATUSES:
        # A closed loan has left the pool by its own events (payoff, liquidation, charge-off).
        raise TrustError(f"loan {loan_number} is {status_words(status)}; there is nothing left to buy out")


def _proceeds(loan_number: str, removed_on: date) -> Proceeds:
    balance = account_balance(loan_accounts.principal(loan_number), as_of=removed_on)
    # The buyer pays the interest a payoff on that day would: accrued since the last paid installment.
    # A borrower who paid ahead has accrued none; the trust keeps what it already passed on.
    interest = max(0, payoff_quote_get(loan_number=loan_number, as_of=removed_on).interest_cents)
    return Proceeds(balance_cents=balance, principal_cents=balance, interest_cents=interest)


def _removal_event(trust: Trust, loan_number: str, removed_on: date, kind: str, reason: str,
                   proceeds: Proceeds) -> NewEvent:
    payload = {
        "loan_number": loan_number, "kind": kind, "reason": reason, "balance_cents": proceeds.balance_cents,
        "proceeds_principal_cents": proceeds.principal_cents, "proceeds_interest_cents": proceeds.interest_cents,
    }
    total = proceeds.total_cents
    # The ledger refuses zero-cent lines (they record nothing): a loan with nothing to pay posts nothing.
    postings = (PostingLine(f"{trust.stream}:cash", total), PostingLine(REPURCHASE_CLEARING, -total)) if total else ()
    return NewEvent("PoolLoanRemoved", payload, removed_on, postings)
