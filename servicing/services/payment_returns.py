"""Returned payments: a payment the bank sent back (NSF, stopped, closed account), under four eyes.

A returned payment (PaymentReturned) negates the original's postings and
collections exactly and records the reversal of what the payment applied
(see `_reversal`); a payoff is never returned automatically. Its payload
names who asked for it and, under four-eyes, who approved it. The hooks of
`servicing.return_hooks` run in the same transaction (trusts registers the
true-up of a repurchase that priced the payment in). A return posts once:
its event carries the idempotency key "return:<reference>".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction

from ledger.actors import Actor, four_eyes_problem
from ledger.business_time import BusinessDateError, require_not_future
from ledger.errors import IdempotencyConflict
from ledger.models import Event
from ledger.domain.money import CentsError, require_cents
from ledger.domain.records import PostingLine, RecordedEvent
from servicing.domain import accounts
from servicing.errors import UnknownLoan
from servicing.events import (
    BALANCE_FIELDS, LoanPaidOff, PaymentPosted, PaymentReturned, PaymentReversed, loan_fact, reversal_of,
)
from servicing.models import LoanPosition, loan_stream
from servicing.domain.payment_file import reference_problem
from servicing.return_hooks import payment_returned
from servicing.services.loan_events import append_at, with_retries
from servicing.services.payment_requests import MAX_ATTEMPTS, LoanBusy, PaymentRefused, recorded


class UnknownPayment(PaymentRefused):
    def __init__(self, loan_number: str, reference: str):
        super().__init__(f"loan {loan_number}: no payment with reference {reference} was posted to it")


@dataclass(frozen=True)
class ReturnResult:
    loan_number: str
    reference: str
    event: RecordedEvent
    fee_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnTerms:
    """A return as asked, checked and cleaned: which payment, the bank's reason, and the returned-payment fee."""

    loan_number: str
    reference: str
    returned_on: date
    reason: str
    fee_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Signatories:
    """Who asked for a return and who approved it, by username, as the event's payload names them."""

    requested_by: str | None
    approved_by: str | None


@transaction.atomic
def payment_return(*, loan_number: str, reference: str, returned_on: date, reason: str,
                   fee_cents: int | None = None, acting_user: Actor, requested_by=None) -> ReturnResult:
    """Record a payment the bank returned (NSF, stopped, closed account), plus a returned-payment fee.

    The fee defaults to settings.SERVICING_NSF_FEE_CENTS (0 when unset). Four eyes: either
    acting_user is the system (a `ledger.actors.SystemActor`, e.g. the demo) and requested_by is
    None, or requested_by is the staff member who asked for the return and acting_user the
    other, holding the approval permission, who approved it (approvals.acts.reversal_record);
    the event names both, and is recorded by the approver. A person alone, or nobody, is
    refused (PaymentRefused) before anything is read or written.
    """
    _require_four_eyes(loan_number, reference, requested_by=requested_by, acting_user=acting_user)
    terms = _return_terms(loan_number, reference, returned_on, reason, fee_cents)
    names = _signatories(requested_by=requested_by, acting_user=acting_user)

    def attempt() -> ReturnResult:
        # The position first, then the checks: a return recorded after this read moves the loan's
        # version, so this append conflicts, not the one computed on a position it already changed.
        position = LoanPosition.objects.filter(loan_id=loan_number).first()
        original = _returnable(terms)
        return _return_once(original, _returnable_position(original, position), terms, acting_user, names)

    try:
        return with_retries(attempt, attempts=MAX_ATTEMPTS, busy=lambda: LoanBusy(loan_number))
    except IdempotencyConflict:
        # Another writer returned this payment (for another reason or fee) between our check and our
        # append: refuse as a return asked for afterwards is refused, "already returned", naming it.
        _returnable(terms)
        raise


def _require_four_eyes(loan_number: str, reference: str, *, requested_by, acting_user: Actor) -> None:
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
    terms = _return_terms(loan_number, reference, returned_on, reason, fee_cents)
    original = _returnable(terms)
    _reversal(_returnable_position(original), loan_fact(original), terms.fee_cents)
    return original


def _return_terms(loan_number: str, reference: str, returned_on: date, reason: str,
                  fee_cents: int | None) -> ReturnTerms:
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
    try:
        require_not_future("returned_on", returned_on)
    except BusinessDateError as error:
        raise PaymentRefused(f"loan {loan_number}: {error}") from None
    return ReturnTerms(loan_number=loan_number, reference=reference, returned_on=returned_on,
                       reason=reason.strip(), fee_cents=fee)


def _signatories(*, requested_by, acting_user: Actor) -> Signatories:
    """Who asked for a return and who approved it, by username, for the event's payload."""
    def name(user):
        return user.get_username() if getattr(user, "pk", None) else None

    if requested_by is None:
        return Signatories(requested_by=name(acting_user), approved_by=None)
    return Signatories(requested_by=name(requested_by), approved_by=name(acting_user))


def _returnable(terms: ReturnTerms) -> RecordedEvent:
    """The payment's original event, if it can be returned; refuses otherwise."""
    loan_number, reference, returned_on = terms.loan_number, terms.reference, terms.returned_on
    original = recorded(f"payment:{reference}")
    if original is None or original.stream != loan_stream(loan_number):
        raise UnknownPayment(loan_number, reference)
    if original.event_type == LoanPaidOff.event_type:
        raise PaymentRefused(f"loan {loan_number}: payment {reference} paid the loan off; returning a payoff "
                             "needs a manual reinstatement of the loan")
    returned = recorded(f"return:{reference}")
    if returned is not None:
        raise PaymentRefused(f"loan {loan_number}: payment {reference} was already returned on "
                             f"{returned.effective_date.isoformat()} (position {returned.position})")
    if returned_on < original.effective_date:
        raise PaymentRefused(f"loan {loan_number}: payment {reference} was received on "
                             f"{original.effective_date.isoformat()}, after the return date {returned_on.isoformat()}")
    return original


def _return_once(original: RecordedEvent, position: LoanPosition, terms: ReturnTerms, acting_user: Actor,
                 names: Signatories) -> ReturnResult:
    payment = loan_fact(original)
    fee = terms.fee_cents
    lines = [PostingLine(p.account, -p.amount_cents) for p in original.postings]
    if fee:
        lines += [PostingLine(accounts.fees(payment.loan_number), fee), PostingLine(accounts.FEE_INCOME, -fee)]
    fact = PaymentReturned(
        loan_number=payment.loan_number, reference=payment.reference, returned_on=terms.returned_on,
        reason=terms.reason, amount_cents=payment.amount_cents, received_on=payment.received_on,
        returned_event_position=original.position, fee_cents=fee, collections=payment.collections.negated(),
        reversal=_reversal(position, payment, fee), requested_by=names.requested_by, approved_by=names.approved_by,
    )
    event = fact.new_event(effective_date=terms.returned_on, postings=tuple(lines),
                           idempotency_key=f"return:{payment.reference}")
    recorded_return = append_at(position, [event], acting_user)
    # In this attempt's savepoint: what the hooks record (a trust's true-up) commits with the return or not at all.
    payment_returned(recorded_return[0], original, acting_user)
    return ReturnResult(loan_number=payment.loan_number, reference=payment.reference, event=recorded_return[0],
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
    # Only the payloads: the events' postings (and the rest of each row) say nothing about which payments stand.
    rows = Event.objects.filter(stream=loan_stream(loan_number),
                                event_type__in=(PaymentPosted.event_type, PaymentReturned.event_type))
    posted, returned = {}, {returning}
    for event_type, payload in rows.values_list("event_type", "payload"):
        if event_type == PaymentReturned.event_type:
            returned.add(PaymentReturned.from_payload(payload).reference)
        else:
            payment = PaymentPosted.from_payload(payload)
            posted[payment.reference] = payment.received_on
    standing = [day for ref, day in posted.items() if ref not in returned]
    return max(standing) if standing else None
