"""What a payment request is, and why one is refused: shared by posting, returns and payment files.

A `PaymentRequest` is the facts of money received as the event will record
them (loan, bank reference, amount, date, kind), checked once when it is made
(`payment_request`). A bank reference posts once: its event carries the
idempotency key "payment:<reference>", and a request under a reference
already used is either the same payment (`PaymentRequest.matches`: answered
as already posted) or a different one (`DuplicateReference`, naming both).

The refusals of this module are `PaymentRefused` (a `ServicingError` whose
message names the loan and why) and `LoanBusy`, when a loan kept changing
under a writer for `MAX_ATTEMPTS` rounds of `with_retries`.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from ledger.business_time import DatedFact, dated_facts_problems, dated_rules_moved
from ledger.domain.money import CentsError, dollars, require_cents
from ledger.models import Event
from ledger.domain.records import NewEvent, RecordedEvent
from ledger.selectors import recorded_events
from ledger.services import UnderLock, append
from ledger.actors import Actor
from servicing.errors import ServicingError
from servicing.events import loan_fact
from servicing.models import LoanPosition, loan_stream
from servicing.domain.payment_file import reference_problem
from servicing.services.loan_events import dated_loan_fact

# Eight writers on one loan lose at most seven rounds each; the margin covers a burst of more.
MAX_ATTEMPTS = 20


# What a payment's date is, as a refusal names it ("loan L1: payment received 2026-02-01: ...").
RECEIVED = "payment received"


class PaymentRefused(ServicingError):
    """A payment or return that cannot be recorded as asked; the message names the loan and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRequest:
    """Money received on a loan, as asked: the facts its event records (reference stripped, a real date)."""

    loan_number: str
    reference: str
    amount_cents: int
    received_on: date
    principal_only: bool = False

    @property
    def idempotency_key(self) -> str:
        """The key of the event that records this payment: a bank reference posts once."""
        return f"payment:{self.reference}"

    def matches(self, original: RecordedEvent) -> bool:
        """Whether the payment recorded under this reference is this request (same loan, amount, date and kind)."""
        if original.stream != loan_stream(self.loan_number):
            return False
        fact = loan_fact(original)
        asked = (self.loan_number, self.reference, self.amount_cents, self.received_on, self.principal_only)
        return (fact.loan_number, fact.reference, fact.amount_cents, fact.received_on, fact.principal_only) == asked


class DuplicateReference(PaymentRefused):
    def __init__(self, reference: str, original: RecordedEvent, asked: PaymentRequest):
        p = loan_fact(original)
        super().__init__(
            f"reference {reference} was already used for {dollars(p.amount_cents)} to loan "
            f"{p.loan_number} received on {p.received_on.isoformat()} ({original.event_type}, position "
            f"{original.position}); this request is {dollars(asked.amount_cents)} to loan {asked.loan_number} "
            f"received on {asked.received_on.isoformat()}: a new payment needs a new reference"
        )


class LoanBusy(ServicingError):
    def __init__(self, loan_number: str):
        super().__init__(f"loan {loan_number} kept changing while this was computed ({MAX_ATTEMPTS} attempts); "
                         "nothing was recorded, try again")


def payment_request(loan_number: str, amount_cents: int, received_on: date, reference: str,
                    principal_only: bool) -> PaymentRequest:
    """The facts of the request as the event records them; refuses malformed input."""
    request = payment_terms(loan_number, amount_cents, received_on, reference, principal_only)
    check_received_on(loan_number, received_on)
    return request


def payment_terms(loan_number: str, amount_cents: int, received_on: date, reference: str,
                  principal_only: bool) -> PaymentRequest:
    """The request with its reference and amount checked, its date not yet (`payment_request` checks all three;
    a file checks its rows' dates together, `received_on_problems`)."""
    problem = reference_problem(reference)
    if problem:
        raise PaymentRefused(f"loan {loan_number}: {problem}")
    try:
        require_cents(amount_cents, "a payment's amount_cents", zero=False)
    except CentsError as error:
        raise PaymentRefused(f"loan {loan_number}: {error}") from None
    return PaymentRequest(loan_number=loan_number, reference=reference.strip(), amount_cents=amount_cents,
                          received_on=received_on, principal_only=bool(principal_only))


def check_received_on(loan_number: str, received_on: object) -> None:
    """The one rule for dated facts (ledger.business_time), refused as a PaymentRefused.

    A date, not in the future, and whatever the upper apps registered: the trusts' rule
    refuses money dated on or before the cut-off of the trust the loan is in now (it is
    the seller's: a payment or curtailment posted late would lower the pool unremitted),
    or on or before the loan's removal from a pool (the buyer's: the removal's proceeds
    already paid that day's balance).
    """
    if not isinstance(received_on, date) or hasattr(received_on, "hour"):
        raise PaymentRefused(f"loan {loan_number}: received_on must be a date, got {received_on!r}")
    dated_loan_fact(loan_number, RECEIVED, received_on, refused=PaymentRefused)


def received_on_still_holds(request: PaymentRequest, checked_as_of: int) -> UnderLock:
    """The request's date checked again under the log's lock, if it needs to be: `checked_as_of` is the log's
    position read just before `check_received_on` passed it. Only if an event that changes what a dated rule
    reads (a trust formed, a loan removed from a pool, a period closed) was recorded since is that rule asked
    again, and a refusal now is a PaymentRefused, with the message `check_received_on` would give: the
    payment is not recorded."""
    def check(last_position: int) -> None:
        moved = dated_rules_moved(checked_as_of, last_position)
        if moved:
            problem = received_on_problems([(request.loan_number, request.received_on)], only=moved)[0]
            if problem:
                raise PaymentRefused(problem)
    return check


def received_on_problems(payments: Sequence[tuple[str, date]], *,
                         only: Collection[str] | None = None) -> list[str | None]:
    """`check_received_on` for many (loan, received_on) at once, a file's rows: each refusal's message, or None.

    The same rule and messages, but each registered rule reads every row in one go, not one query a row.
    `only`: the rules of these names, for rows the others passed (`dated_rules_moved`)."""
    return dated_facts_problems([DatedFact(what=RECEIVED, on=on, loan_number=loan) for loan, on in payments],
                                only=only)


def recorded(key: str) -> RecordedEvent | None:
    """The event recorded under an idempotency key, None when there is none."""
    found = recorded_events(Event.objects.filter(idempotency_key=key))
    return found[0] if found else None


def append_at(position: LoanPosition, events: list[NewEvent], acting_user: Actor,
              under_lock: UnderLock | None = None) -> list[RecordedEvent]:
    """Append to the loan's stream at the version the position was read at: a writer who got there first
    makes this a ConcurrencyConflict, which `with_retries` answers by reading again. `under_lock`: a last
    check once the log's lock is held (`received_on_still_holds`)."""
    return append(stream=loan_stream(position.loan_id), expected_version=position.stream_version, events=events,
                  acting_user=acting_user, under_lock=under_lock)
