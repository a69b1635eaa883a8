"""What a payment request is, and why one is refused: shared by posting, returns and payment files.

A `PaymentRequest` is the facts of money received as the event will record
them (loan, bank reference, amount, date, kind), checked once when it is made
(`payment_terms`, and its date by `check_received_on`). A bank reference posts once: its event carries the
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

from ledger.business_time import CheckedFact, DatedFact, dated_facts_problems
from ledger.domain.money import CentsError, dollars, require_cents
from ledger.models import Event
from ledger.domain.records import RecordedEvent
from ledger.selectors import recorded_events
from servicing.errors import ServicingError
from servicing.events import loan_fact
from servicing.models import loan_stream
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


def payment_terms(loan_number: str, amount_cents: int, received_on: date, reference: str,
                  principal_only: bool) -> PaymentRequest:
    """The request with its reference and amount checked, its date not yet (`check_received_on` checks one
    payment's; a file checks its rows' dates together, `received_on_problems`)."""
    problem = reference_problem(reference)
    if problem:
        raise PaymentRefused(f"loan {loan_number}: {problem}")
    try:
        require_cents(amount_cents, "a payment's amount_cents", zero=False)
    except CentsError as error:
        raise PaymentRefused(f"loan {loan_number}: {error}") from None
    return PaymentRequest(loan_number=loan_number, reference=reference.strip(), amount_cents=amount_cents,
                          received_on=received_on, principal_only=bool(principal_only))


def check_received_on(loan_number: str, received_on: object) -> CheckedFact:
    """The one rule for dated facts (ledger.business_time), refused as a PaymentRefused.

    A date, not in the future, and whatever the upper apps registered: the trusts' rule
    refuses money dated on or before the cut-off of the trust the loan is in now (it is
    the seller's: a payment or curtailment posted late would lower the pool unremitted),
    or on or before the loan's removal from a pool (the buyer's: the removal's proceeds
    already paid that day's balance). Returns the check: its `still_holds`, given to
    `append_at`, asks again under the log's lock the rules whose read models moved since.
    """
    if not isinstance(received_on, date) or hasattr(received_on, "hour"):
        raise PaymentRefused(f"loan {loan_number}: received_on must be a date, got {received_on!r}")
    return dated_loan_fact(loan_number, RECEIVED, received_on, refused=PaymentRefused)


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
