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

A payment the trust received before the removal and the bank returns after it
leaves the buyer having paid par on a balance the loan no longer has: the trust
nets the return in its next close, so the buyer owes it the difference. On every
return (servicing.return_hooks, registered in trusts.apps) `removal_proceeds_true_up`
records RemovalProceedsTrued on the trust's stream, in the return's transaction:
the principal returned, and the interest a payoff quote on the removal date would
have added (accrued from an earlier due date, on the higher balance). The close
counts it as repurchase proceeds of the window it is recorded in.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from dateutil.relativedelta import relativedelta

from ledger.actors import Actor
from ledger.business_time import DatedFact, checked_fact
from ledger.events import decode
from ledger.models import Event, Stream
from ledger.domain.records import NewEvent, PostingLine, RecordedEvent
from ledger.selectors import account_balance, recorded_events
from ledger.services import append
from servicing.domain import accounts as loan_accounts
from servicing.models import CLOSED_STATUSES, LoanPosition, loan_stream
from servicing.domain.money_position import MoneyPosition
from servicing.domain.payoff_quotes import payoff_quote
from servicing.events import PaymentPosted, PaymentReturned
from servicing.projections import HANDLERS
from servicing.services.loan_events import status_words, with_retries
from servicing.services.payoff import money_position, payoff_quote_get
from trusts.errors import TrustError
from trusts.events import PoolLoanRemoved, RemovalProceedsTrued
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
                     acting_user: Actor) -> RecordedEvent:
    """Record a loan leaving the trust's pool on `removed_on`, bought out by the seller or the servicer."""
    reason = _checked_reason(kind, reason)
    trust = Trust.objects.filter(code=trust_code).first()
    if trust is None:
        raise TrustError(f"unknown trust {trust_code}")
    dated = checked_fact(DatedFact("removal", removed_on, loan_number=loan_number, trust_code=trust_code),
                         refused=TrustError)
    if removed_on < trust.cutoff_date:
        raise TrustError(f"trust {trust_code}'s cut-off date is {trust.cutoff_date.isoformat()}; "
                         f"a loan cannot leave its pool before it, on {removed_on.isoformat()}")
    stream = trust_stream(trust_code)

    def attempt() -> RecordedEvent:
        # Read the version before the pool: a removal committed after this read makes the append conflict,
        # and the retry then finds the loan already removed.
        version = Stream.objects.filter(name=stream).values_list("version", flat=True).first() or 0
        event, _ = removal_priced(trust, loan_number, removed_on, kind=kind, reason=reason)
        # Under the lock, the date checked again if a period was closed (or a trust formed) since the check.
        return append(stream=stream, expected_version=version, events=[event], acting_user=acting_user,
                      under_lock=dated.still_holds)[0]

    return with_retries(attempt, busy=lambda: TrustError(f"the pool of {trust_code} is busy; try the removal again"))


def removal_priced(trust: Trust, loan_number: str, removed_on: date, *, kind: str,
                   reason: str) -> tuple[NewEvent, Proceeds]:
    """A loan's removal as `pool_loan_remove` records it, not yet appended: the loan checked still in the pool,
    priced at par plus accrued interest on `removed_on`, and its PoolLoanRemoved with the proceeds' postings.
    The clean-up call (trusts.services.cleanup_call) removes every loan left this way, in one append."""
    _check_in_pool(trust, loan_number)
    proceeds = _proceeds(loan_number, removed_on)
    return _removal_event(trust, loan_number, removed_on, kind, reason, proceeds), proceeds


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
    removed = PoolLoanRemoved(
        loan_number=loan_number, kind=kind, reason=reason, balance_cents=proceeds.balance_cents,
        proceeds_principal_cents=proceeds.principal_cents, proceeds_interest_cents=proceeds.interest_cents,
    )
    total = removed.proceeds_cents
    # The ledger refuses zero-cent lines (they record nothing): a loan with nothing to pay posts nothing.
    postings = (PostingLine(f"{trust.stream}:cash", total), PostingLine(REPURCHASE_CLEARING, -total)) if total else ()
    return removed.new_event(effective_date=removed_on, postings=postings)


# --- Loss mitigation on a pooled loan: what the deal allows, else a buy-out first -------------------------


def pooled_loan_change_problem(loan_number: str, change) -> str | None:
    """Why a deferral or modification (servicing.services.loss_mitigation.BalanceChange) is refused on a loan
    in a trust's pool on its date, or None. The rule many deals keep, and the trust's books need:
    - the pool's balance is the loans' principal accounts, passed to holders only as collected; a
      deferral or a capitalization moves it without a collection, so the loan is bought out first (at
      par, `pool_loan_remove` kind "buyout", or `manage.py remove_pool_loan --kind buyout`);
    - a scheduled/scheduled deal advances on the pool's terms: no modification there at all;
    - an actual/actual deal takes a modification that capitalizes nothing and sets nothing aside (new
      rate and term, forgiveness): the forgiven principal is a realized loss of its close.
    """
    member = next((m for m in PoolLoan.objects.filter(loan_id=loan_number).select_related("trust")
                   if m.covers(change.on)), None)
    if member is None:
        return None
    trust = member.trust
    buy_out = (f"buy it out of the pool first (manage.py remove_pool_loan --trust {trust.code} --loan "
               f"{loan_number} --kind buyout)")
    if trust.remittance_type == Trust.RemittanceType.SCHEDULED_SCHEDULED and change.what == "modification":
        return f"is in the pool of {trust.code}, a scheduled/scheduled deal that advances on the pool's terms; {buy_out}"
    if change.capitalized_cents or change.deferred_cents:
        return (f"is in the pool of {trust.code}: a {change.what} that capitalizes or defers "
                f"{change.capitalized_cents + change.deferred_cents} cents would move the pool's balance "
                f"without a collection; {buy_out}")
    return None


# --- A payment returned after the removal: the buyer owes the difference ------------------------------


def removal_proceeds_true_up(returned: RecordedEvent, original: RecordedEvent,
                             acting_user: Actor) -> RecordedEvent | None:
    """After a payment return (servicing.return_hooks): record what the loan's buyer still owes, if anything.

    Owed only when a trust's removal of the loan was recorded after the payment (so its proceeds
    were priced on the balance the payment left) and that trust received it (its membership covers
    the received_on, so its close takes the return back). The buyer then owes what it would have paid
    had every such returned payment never been made, less what it paid (the proceeds and earlier
    true-ups). A payment recorded after the removal, or returned before it, was never priced in.
    Runs inside the return's transaction, which holds the log's lock: nothing can move in between.
    """
    payment = _payment(original)
    found = _removal_pricing(payment, original)
    if found is None:
        return None
    removal, member = found
    removed = PoolLoanRemoved.from_payload(removal.payload)
    principal, interest = _owed(removal, removed, member)
    if principal <= 0 and interest <= 0:
        return None  # e.g. an escrow-only payment: the proceeds did not depend on it
    event = _true_up_event(removal, removed, returned, original, payment.reference, max(principal, 0),
                           max(interest, 0))
    return append(stream=removal.stream, expected_version=None, events=[event], acting_user=acting_user)[0]


def _payment(event: RecordedEvent) -> PaymentPosted:
    """A returned payment's own event, typed (a payoff is never returned, so it is a posted payment)."""
    fact = decode(event)
    if not isinstance(fact, PaymentPosted):
        raise TrustError(f"event #{event.position} is a {event.event_type}, not a posted payment")
    return fact


def _removal_pricing(payment: PaymentPosted, original: RecordedEvent) -> tuple[RecordedEvent, PoolLoan] | None:
    """The removal (and its membership) whose proceeds were priced after `original` and whose trust received it."""
    loan, received_on = payment.loan_number, payment.received_on
    # Filtered in the database by the stored loan number: a loan's removals are few among the trusts' events.
    removals = recorded_events(Event.objects.filter(
        stream__startswith="trust:", event_type=PoolLoanRemoved.event_type, position__gt=original.position,
        **{PoolLoanRemoved.payload_path("loan_number"): loan}))
    if not removals:
        return None
    # The loan's ended memberships in one query, by (trust's stream, removal date): one loan's memberships
    # never overlap, so that pair names at most one.
    members = {(trust_stream(m.trust.code), m.removed_on): m
               for m in PoolLoan.objects.filter(loan_id=loan, removed_on__isnull=False).select_related("trust")}
    for removal in removals:
        member = members.get((removal.stream, removal.effective_date))
        if member is not None and member.covers(received_on):
            return removal, member
    return None


def _owed(removal: RecordedEvent, removed: PoolLoanRemoved, member: PoolLoan) -> tuple[int, int]:
    """(principal, interest) the buyer owes beyond what it paid for this removal (`removed`, typed) so far."""
    removed_on, loan = removal.effective_date, removed.loan_number
    priced_in = _returned_since(loan, removal, member)
    at_removal = money_position(_position_at(loan, removal.position), for_payoff=True)
    would = _without(at_removal, priced_in)
    # The principal a payoff quote would have used: the recorded balance plus what the returns restore.
    would_principal = removed.balance_cents + sum(p.principal_paid_cents for p in priced_in)
    # The interest exactly as _proceeds prices it: the payoff quote's accrual on that day, never below zero.
    would_interest = max(0, payoff_quote(position=would, as_of=removed_on).interest_cents)
    paid_principal, paid_interest = _paid_for(removal, removed)
    return would_principal - paid_principal, would_interest - paid_interest


def _returned_since(loan: str, removal: RecordedEvent, member: PoolLoan) -> list[PaymentPosted]:
    """The loan's payments the removal priced in (recorded before it, received by this membership)
    and returned after it, this one included: the originals, oldest first, each decoded once."""
    originals = list(Event.objects.filter(stream=loan_stream(loan), event_type=PaymentReturned.event_type,
                                          position__gt=removal.position)
                     .values_list(PaymentReturned.payload_path("returned_event_position"), flat=True))
    rows = recorded_events(Event.objects.filter(position__in=originals, position__lt=removal.position))
    return [p for p in map(_payment, rows) if member.covers(p.received_on)]


def _position_at(loan: str, before_position: int) -> LoanPosition:
    """The loan's position as the removal read it: its stream replayed up to the removal, unsaved."""
    position = None
    for event in recorded_events(Event.objects.filter(stream=loan_stream(loan), position__lt=before_position)):
        handler = HANDLERS.get(event.event_type)
        if handler is not None:
            position = handler(position, event)
    if position is None:
        raise TrustError(f"loan {loan} has no position before its removal (event #{before_position})")
    return position


def _without(position: MoneyPosition, payments: list[PaymentPosted]) -> MoneyPosition:
    """The position had these payments never been made: their principal back, the due date moved back
    by as many months as each moved it (the only fields the payoff quote's interest reads)."""
    principal, due = position.principal_balance_cents, position.next_due_date
    for payment in payments:
        principal += payment.principal_paid_cents
        applied = payment.application
        before, after = applied.next_due_date_before, applied.next_due_date_after
        due -= relativedelta(months=(after.year - before.year) * 12 + after.month - before.month)
    return replace(position, principal_balance_cents=principal, next_due_date=due)


def _paid_for(removal: RecordedEvent, removed: PoolLoanRemoved) -> tuple[int, int]:
    """What the buyer paid for this removal so far: its proceeds and the true-ups recorded since."""
    principal, interest = removed.proceeds_principal_cents, removed.proceeds_interest_cents
    true_ups = Event.objects.filter(stream=removal.stream, event_type=RemovalProceedsTrued.event_type,
                                    **{RemovalProceedsTrued.payload_path("removal_position"): removal.position})
    for payload in true_ups.values_list("payload", flat=True):
        trued = RemovalProceedsTrued.from_payload(payload)
        principal += trued.principal_cents
        interest += trued.interest_cents
    return principal, interest


def _true_up_event(removal: RecordedEvent, removed: PoolLoanRemoved, returned: RecordedEvent,
                   original: RecordedEvent, reference: str, principal: int, interest: int) -> NewEvent:
    trued = RemovalProceedsTrued(
        loan_number=removed.loan_number, kind=removed.kind, removal_position=removal.position,
        removed_on=removal.effective_date, reference=reference, returned_event_position=original.position,
        return_position=returned.position, returned_on=returned.effective_date,
        principal_cents=principal, interest_cents=interest,
    )
    total = principal + interest
    postings = (PostingLine(f"{removal.stream}:cash", total), PostingLine(REPURCHASE_CLEARING, -total))
    # Dated with the return: the same close nets both (they commit together, one position apart).
    return trued.new_event(effective_date=returned.effective_date, postings=postings,
                           idempotency_key=f"trued:{reference}")
