"""Loan money re-derived from the facts, for `verify_ledger` (registered in ServicingConfig.ready).

The projection folds each event's recorded decision (or, for a version 1
event, copies its `position_after` snapshot); this check trusts neither. For
every loan it replays the facts (the amount received, the day, the note rate,
the disbursement, the sale proceeds) through the pure money functions
(payment application, payoff, disposition) and checks:

- each payment's application split sums to the amount received and is what
  applying that amount to the position before it gives; its `collections`
  and its principal posting say the same;
- each payoff, liquidation and charge-off clears the principal the facts
  left, and each return reverses exactly what its payment did;
- the position each event's fold gives (its decision applied, or its v1
  snapshot copied), the LoanPosition row and the loan's principal account
  all equal the re-derived position;
- each loss-mitigation step (plans, deferral, modification) re-derived by
  servicing.domain.loss_mitigation, and the deferred principal account equal
  to the re-derived deferred balance;
- each bankruptcy fact is one the loan's cases allow (servicing.domain.bankruptcy),
  the open case's chapter and filing date are what its facts give, and no
  late charge or foreclosure step is dated while the automatic stay held;
- each CollectionLine row (what the month-end close sums) holds what its
  event collected, and no line is without its event.

Loans are read in batches of their streams (bounded memory); at most
MAX_PROBLEMS problems are kept, the earliest log positions first, one per
loan (a loan's first bad fact: what follows it is its consequence).
"""
from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from ledger.models import Event, Posting
from ledger.selectors import stored_balances
from servicing.domain import accounts
from servicing.domain.bankruptcy import BankruptcyRefused, Cases
from servicing.domain.delinquency_status import CURRENT, mba_bucket
from servicing.models import CollectionLine, IndexValue, Loan, LoanPosition, LoanStatus, loan_stream
from servicing.domain.payment_application import apply_payment, is_payoff
from servicing.domain.payoff_quotes import settle_payoff
from servicing.events import (
    BANKRUPTCY_EVENTS, COLLECTION_KEYS, LOAN_EVENT_TYPES, BorrowerRefundPaid, DelinquencyChanged, EscrowAnalyzed,
    EscrowDisbursed, EscrowItemAdded, ForeclosureStarted, LateChargeAssessed, LoanBoarded, LoanChargedOff, LoanFact,
    LoanLiquidated, LoanPaidOff, LoanTermsChanged, PaymentPosted, PaymentReturned, ReoAcquired, collections_of,
    loan_fact, terms_for_next_due, v1_snapshot_of,
    ForbearanceEnded, ForbearanceStarted, LoanModified, PaymentDeferred, RepaymentPlanEnded, RepaymentPlanStarted,
    TrialPlanEnded, TrialPlanStarted,
)
from servicing.domain import loss_mitigation as lm
from servicing.domain.terms_changes import ARM_RESET, decide, figures_of, scheduled_changes
from servicing.services.bankruptcy import cases_after
from servicing.services.default import disposition_split
from servicing.services.payoff import money_position

MAX_PROBLEMS = 20
LOAN_BATCH = 500
# The money fields compared with each snapshot and with the LoanPosition row.
COMPARED = ("principal_balance_cents", "next_due_date", "suspense_cents", "escrow_balance_cents",
            "escrow_advance_cents", "late_charges_due_cents", "fees_due_cents", "status", "last_payment_date",
            "escrow_monthly_cents", "realized_loss_cents", "delinquency_bucket", "note_rate", "payment_pi_cents",
            "deferred_principal_cents", "loss_mitigation", "bankruptcy_chapter", "bankruptcy_filed_on",
            "balloon_due_date", "terms_changes")
_DATES = ("next_due_date", "last_payment_date", "balloon_due_date")
_DELTAS = ("principal_balance_cents", "suspense_cents", "escrow_balance_cents", "escrow_advance_cents",
           "late_charges_due_cents", "fees_due_cents")


class LoanDiscrepancy(Exception):
    """The first bad fact of a loan: raised with its description, caught once per loan."""


@dataclass
class Derived:
    """A loan's position as its facts make it (attribute names as LoanPosition's, for the money helpers)."""

    loan_id: str
    principal_balance_cents: int
    note_rate: Decimal
    payment_pi_cents: int
    escrow_monthly_cents: int
    next_due_date: date
    status: str = LoanStatus.ACTIVE.value
    suspense_cents: int = 0
    escrow_balance_cents: int = 0
    escrow_advance_cents: int = 0
    late_charges_due_cents: int = 0
    fees_due_cents: int = 0
    realized_loss_cents: int = 0
    last_payment_date: date | None = None
    delinquency_bucket: str = CURRENT
    deferred_principal_cents: int = 0
    loss_mitigation: str = ""
    bankruptcy_chapter: int | None = None
    bankruptcy_filed_on: date | None = None
    balloon_due_date: date | None = None
    terms_changes: list = field(default_factory=list)
    boarded: LoanBoarded | None = None  # the boarding's terms, which a change of terms re-derives from
    bankruptcy_cases: Cases = field(default_factory=Cases)
    # reference -> (received_on, deltas, installments paid, next due before, next due after) of payments standing
    payments: dict = field(default_factory=dict)
    # reference -> (received_on, amount) of payments standing, and the plan running: what plans are judged by
    received: dict = field(default_factory=dict)
    plan: tuple | None = None
    modified_on: date | None = None  # a permanent modification's day: the note's scheduled changes end there

    def value(self, name: str):
        value = getattr(self, name)
        return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class LoanEvent:
    position: int
    version: int
    event_type: str
    payload: dict
    effective_date: date
    principal_cents: int  # this event's postings to the loan's principal account

    @cached_property  # read once per event: the steps and the fold check all use it
    def fact(self) -> LoanFact:
        """The typed fact (v1 payloads upcast); raises ValueError for a payload its class cannot read."""
        return loan_fact(self)

    def name(self, loan: str) -> str:
        return f"event #{self.position} ({loan_stream(loan)} v{self.version} {self.event_type})"


def loan_money_rederived() -> list[str]:
    """Every loan's position re-derived from its facts, against its events, row and principal account."""
    kept: list[tuple[int, str]] = []
    for batch, strays in _loan_batches():
        for stray in strays:
            keep_earliest(kept, stray)
        rows = {p.loan_id: p for p in LoanPosition.objects.filter(loan_id__in=list(batch))}
        ledger = stored_balances([a(n) for n in batch for a in (accounts.principal, accounts.deferred_principal)])
        lines = _collection_lines(list(batch))
        for number, events in batch.items():
            found = [p for p in (_loan_problem(number, events, rows.get(number),
                                               ledger.get(accounts.principal(number), 0),
                                               ledger.get(accounts.deferred_principal(number), 0)),
                                 _line_problem(number, events, lines.get(number, {}))) if p]
            if found:
                keep_earliest(kept, min(found))
    return earliest_first(kept)


def keep_earliest(kept: list[tuple[int, str]], found: tuple[int, str], limit: int = MAX_PROBLEMS) -> None:
    """Keep the `limit` problems of the earliest log positions: a max-heap on the negated position."""
    heapq.heappush(kept, (-found[0], found[1]))
    if len(kept) > limit:
        heapq.heappop(kept)


def earliest_first(kept: list[tuple[int, str]]) -> list[str]:
    return [text for _, text in sorted(kept, reverse=True)]


def _loan_batches() -> Iterator[tuple[dict[str, list[LoanEvent]], list[tuple[int, str]]]]:
    """Loans in loan-number order, LOAN_BATCH at a time, each with its events in version order."""
    last = ""
    while True:
        numbers = list(Loan.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:LOAN_BATCH])
        if not numbers:
            return
        last = numbers[-1]
        yield _events_of(numbers)


def _events_of(numbers: list[str]) -> tuple[dict[str, list[LoanEvent]], list[tuple[int, str]]]:
    """Each loan's events with their principal postings, and postings to those accounts from other streams."""
    streams = {loan_stream(n): n for n in numbers}
    principal: dict[int, int] = {}
    for event_id, cents in Posting.objects.filter(account__in=[accounts.principal(n) for n in numbers]).values_list(
            "event_id", "amount_cents"):
        principal[event_id] = principal.get(event_id, 0) + cents
    by_loan: dict[str, list[LoanEvent]] = {n: [] for n in numbers}
    rows = (Event.objects.filter(stream__in=list(streams)).order_by("stream", "version")
            .values_list("position", "stream", "version", "event_type", "payload", "effective_date"))
    for position, stream, version, event_type, payload, effective in rows:
        by_loan[streams[stream]].append(LoanEvent(position, version, event_type, payload, effective,
                                                  principal.pop(position, 0)))
    strays = []
    if principal:  # postings to these loans' principal accounts by events of other streams
        position = min(principal)
        stream = Event.objects.filter(position=position).values_list("stream", flat=True).first()
        strays.append((position, f"event #{position} ({stream}) posts {principal[position]} cents to a loan's "
                                 "principal account from outside the loan's stream"))
    return by_loan, strays


def _loan_problem(number: str, events: list[LoanEvent], row, ledger_cents: int,
                  deferred_cents: int = 0) -> tuple[int, str] | None:
    if not events:
        return None
    state = None
    for event in events:
        try:
            before = None if state is None else replace(state, payments=dict(state.payments))
            state = _step(state, event)
            _check_fold(before, state, event)
        except LoanDiscrepancy as bad:
            return event.position, f"{event.name(number)}: {bad}"
        except (ValueError, KeyError, TypeError) as error:
            why = f"{type(error).__name__}: {error}"
            return event.position, f"{event.name(number)}: its facts cannot be re-derived ({why})"
    if state is not None and row is not None and deferred_cents != state.deferred_principal_cents:
        return events[-1].position, (f"loan {number}: its deferred principal account holds {deferred_cents} cents, "
                                     f"its events re-derive {state.deferred_principal_cents}")
    return _final_problem(number, state, events[-1], row, ledger_cents)


def _collection_lines(numbers: list[str]) -> dict[str, dict[int, dict[str, int]]]:
    """Each loan's CollectionLine rows: event position -> amounts."""
    found: dict[str, dict[int, dict[str, int]]] = {}
    for row in CollectionLine.objects.filter(loan_id__in=numbers).values("loan_id", "event_position", *COLLECTION_KEYS):
        found.setdefault(row["loan_id"], {})[row["event_position"]] = {k: row[k] for k in COLLECTION_KEYS}
    return found


def _line_problem(number: str, events: list[LoanEvent], lines: dict[int, dict[str, int]]) -> tuple[int, str] | None:
    """The loan's first collection line that is not what its event collected (or has no event)."""
    expected = {}
    for event in events:
        try:
            # The fact the position check decoded, not a second decoding of the payload.
            amounts = collections_of(event, event.fact if event.event_type in LOAN_EVENT_TYPES else None)
        except (ValueError, KeyError, TypeError):
            continue  # its own problem is named by the position check
        if amounts.any:
            expected[event.position] = amounts.as_dict()
    for position in sorted(set(expected) | set(lines)):
        had, want = lines.get(position), expected.get(position)
        if had != want:
            return position, (f"collection line #{position} of loan {number} holds {had}; its event collected "
                              f"{want}")
    return None


def _final_problem(number: str, state: Derived | None, last: LoanEvent, row, ledger_cents: int):
    if state is None:
        return None
    if row is None:
        return last.position, f"loan {number}: has events up to #{last.position} but no LoanPosition row"
    for name in COMPARED:
        recorded = getattr(row, name)
        recorded = recorded.isoformat() if isinstance(recorded, date) else recorded
        if recorded != state.value(name):
            return last.position, (f"loan {number}: its LoanPosition row says {name} {recorded}, its events "
                                   f"(through #{last.position}) re-derive {state.value(name)}")
    if ledger_cents != state.principal_balance_cents:
        return last.position, (f"loan {number}: its principal account holds {ledger_cents} cents, its events "
                               f"(through #{last.position}) re-derive {state.principal_balance_cents}")
    return None


def _check_fold(before: Derived | None, state: Derived, event: LoanEvent) -> None:
    """The position the projection makes of this event (its fold) must be the one its facts re-derive."""
    if before is None or event.event_type not in LOAN_EVENT_TYPES:
        return  # boarding starts the position; a type servicing does not declare was taken as its snapshot
    fact = event.fact
    legacy = getattr(fact, "legacy_position_after", None)
    made = fact.fold_into(before)
    for name in COMPARED:
        if made.value(name) != state.value(name):
            says = f"its position_after says {name} {legacy[name]}" if legacy and name in legacy else (
                f"its recorded decision gives {name} {made.value(name)}")
            raise LoanDiscrepancy(f"{says}, its facts re-derive {state.value(name)}")


# --- One event at a time ----------------------------------------------------------------------------


def _step(state: Derived | None, event: LoanEvent) -> Derived:
    if event.event_type == LoanBoarded.event_type:
        return _boarded(state, event)
    if state is None:
        raise LoanDiscrepancy("the loan's stream does not start with LoanBoarded")
    _stay_respected(state, event)
    _STEPS.get(event.event_type, _unknown)(state, event)
    return terms_for_next_due(state)


def _boarded(state: Derived | None, event: LoanEvent) -> Derived:
    if state is not None:
        raise LoanDiscrepancy("a second LoanBoarded on the stream")
    p = event.fact
    _require_principal(event, p.current_balance_cents)
    return Derived(loan_id=p.loan_number, principal_balance_cents=p.current_balance_cents,
                   note_rate=p.note_rate, payment_pi_cents=p.payment_pi_cents,
                   escrow_monthly_cents=p.escrow_monthly_cents, next_due_date=p.next_due_date,
                   balloon_due_date=p.balloon_due_date, boarded=p)


def _require_principal(event: LoanEvent, expected: int) -> None:
    if event.principal_cents != expected:
        raise LoanDiscrepancy(f"posts {event.principal_cents} cents to the principal account; its facts say {expected}")


def _require_collections(event: LoanEvent, **amounts: int) -> None:
    recorded = event.fact.collections
    for key in COLLECTION_KEYS:
        expected = amounts.get(key.removesuffix("_cents"), 0)
        if getattr(recorded, key) != expected:
            raise LoanDiscrepancy(f"its collections say {key} {getattr(recorded, key)}, its facts give {expected}")


def _payment(state: Derived, event: LoanEvent) -> None:
    p = event.fact
    received_on, amount = p.received_on, p.amount_cents
    if is_payoff(position=money_position(state, for_payoff=True), amount_cents=amount, received_on=received_on):
        raise LoanDiscrepancy(f"{amount} cents covers the payoff on {received_on.isoformat()}: "
                              "it should have paid the loan off")
    app = apply_payment(position=money_position(state), amount_cents=amount, received_on=received_on,
                        principal_only=p.principal_only)
    _require_split(p, app)
    _require_collections(event, interest=app.interest_cents, scheduled_principal=app.principal_cents,
                         curtailment=app.curtailment_cents)
    _require_principal(event, -(app.principal_cents + app.curtailment_cents))
    before = {name: getattr(state, name) for name in _DELTAS}
    due_before = state.next_due_date
    repaid = min(state.escrow_advance_cents, app.escrow_cents)
    money = app.position_after
    state.principal_balance_cents, state.next_due_date = money.principal_balance_cents, money.next_due_date
    state.suspense_cents, state.late_charges_due_cents = money.suspense_cents, money.late_charges_due_cents
    state.fees_due_cents = money.fees_due_cents
    state.escrow_balance_cents += app.escrow_cents - repaid
    state.escrow_advance_cents -= repaid
    state.last_payment_date = max(received_on, state.last_payment_date or received_on)
    deltas = {name: before[name] - getattr(state, name) for name in _DELTAS}
    state.received[p.reference] = (received_on, amount)
    state.payments[p.reference] = (received_on, deltas, app.installments_paid, due_before, state.next_due_date,
                                   app.principal_cents + app.curtailment_cents, p.collections)


def _require_split(p, app) -> None:
    recorded = p.application
    parts = ("interest_cents", "principal_cents", "curtailment_cents", "escrow_cents", "late_charges_cents",
             "fees_cents")
    total = sum(getattr(recorded, k) for k in parts) + recorded.to_suspense_cents - recorded.from_suspense_cents
    if total != p.amount_cents:
        raise LoanDiscrepancy(f"its application splits {total} cents, not the {p.amount_cents} received")
    for name in (*parts, "to_suspense_cents", "from_suspense_cents", "installments_paid"):
        expected = getattr(app, name)
        if getattr(recorded, name) != expected:
            raise LoanDiscrepancy(f"its application says {name} {getattr(recorded, name)}; applying {p.amount_cents} "
                                  f"cents to the position before it gives {expected}")


def _returned(state: Derived, event: LoanEvent) -> None:
    p = event.fact
    state.received.pop(p.reference, None)
    original = state.payments.pop(p.reference, None)
    if original is None:
        raise LoanDiscrepancy(f"returns payment {p.reference}, which is not a payment standing on the loan")
    _, deltas, months, due_before, due_after, principal, collected = original
    negated = collected.negated()
    _require_collections(event, **{k.removesuffix("_cents"): getattr(negated, k) for k in COLLECTION_KEYS})
    _require_principal(event, principal)
    for name in _DELTAS:
        setattr(state, name, getattr(state, name) + deltas[name])
    state.fees_due_cents += p.fee_cents
    state.next_due_date = due_before if state.next_due_date == due_after else (
        state.next_due_date - relativedelta(months=months))
    standing = [day for day, *_ in state.payments.values()]
    state.last_payment_date = max(standing) if standing else None
    if any(getattr(state, name) < 0 for name in _DELTAS):
        raise LoanDiscrepancy("the return takes back more than the loan holds")


def _paid_off(state: Derived, event: LoanEvent) -> None:
    p = event.fact
    settlement = settle_payoff(position=money_position(state, for_payoff=True), amount_cents=p.amount_cents,
                               as_of=p.received_on)
    expected = {"principal_cents": state.principal_balance_cents, "interest_cents": settlement.interest_cents,
                "refund_to_borrower_cents": settlement.refund_to_borrower_cents,
                "deferred_principal_cents": state.deferred_principal_cents}
    for name, cents in expected.items():
        if getattr(p.payoff, name) != cents:
            raise LoanDiscrepancy(f"its payoff says {name} {getattr(p.payoff, name)}; settling {p.amount_cents} cents "
                                  f"on the position before it gives {cents}")
    _require_collections(event, interest=settlement.interest_cents,
                         payoff_principal=state.principal_balance_cents + state.deferred_principal_cents)
    _require_principal(event, -state.principal_balance_cents)
    _closed(state, LoanStatus.PAID_OFF)
    state.last_payment_date = p.received_on
    state.payments.clear()


def _disposed(state: Derived, event: LoanEvent) -> None:
    p = event.fact
    split = disposition_split(state, on=p.on, gross_proceeds_cents=p.gross_proceeds_cents,
                              costs_cents=p.costs_cents)
    for name in ("principal_recovered_cents", "realized_loss_cents", "interest_cents", "deferred_recovered_cents",
                 "deferred_lost_cents"):
        if getattr(p, name) != getattr(split, name):
            raise LoanDiscrepancy(f"it says {name} {getattr(p, name)}; splitting the proceeds over the "
                                  f"position before it gives {getattr(split, name)}")
    _require_collections(event, interest=split.interest_cents,
                         liquidation_principal=split.principal_recovered_cents + split.deferred_recovered_cents,
                         realized_loss=split.realized_loss_cents + split.deferred_lost_cents)
    _require_principal(event, -state.principal_balance_cents)
    status = LoanStatus.LIQUIDATED if event.event_type == LoanLiquidated.event_type else LoanStatus.CHARGED_OFF
    state.realized_loss_cents += split.realized_loss_cents + split.deferred_lost_cents
    _closed(state, status)


def _closed(state: Derived, status: LoanStatus) -> None:
    for name in (*_DELTAS, "deferred_principal_cents"):
        setattr(state, name, 0)
    state.status = status.value
    state.received.clear()


def _disbursed(state: Derived, event: LoanEvent) -> None:
    p = event.fact
    from_escrow = min(state.escrow_balance_cents, p.amount_cents)
    if p.from_escrow_cents != from_escrow or p.advanced_cents != p.amount_cents - from_escrow:
        raise LoanDiscrepancy(f"pays {p.from_escrow_cents} cents from an escrow balance of "
                              f"{state.escrow_balance_cents} for a bill of {p.amount_cents}")
    _require_principal(event, 0)
    state.escrow_balance_cents -= from_escrow
    state.escrow_advance_cents += p.amount_cents - from_escrow


def _analyzed(state: Derived, event: LoanEvent) -> None:
    p = event.fact
    if p.escrow_balance_cents != state.escrow_balance_cents:
        raise LoanDiscrepancy(f"analyses an escrow balance of {p.escrow_balance_cents}; the facts hold "
                              f"{state.escrow_balance_cents}")
    refund = p.surplus_refund_cents
    if refund > state.escrow_balance_cents:
        raise LoanDiscrepancy(f"refunds {refund} cents of an escrow balance of {state.escrow_balance_cents}")
    state.escrow_balance_cents -= refund
    state.escrow_monthly_cents = p.new_monthly_escrow_cents


def _late_charge(state: Derived, event: LoanEvent) -> None:
    state.late_charges_due_cents += event.fact.amount_cents


def _aged(state: Derived, event: LoanEvent) -> None:
    bucket = mba_bucket(next_due_date=state.next_due_date, as_of=event.effective_date)
    to_bucket = event.fact.to_bucket
    if to_bucket != bucket:
        raise LoanDiscrepancy(f"moves the loan to bucket {to_bucket}; due {state.next_due_date.isoformat()} "
                              f"it is {bucket} on {event.effective_date.isoformat()}")
    state.delinquency_bucket = bucket


def _terms_changed(state: Derived, event: LoanEvent) -> None:
    """A change of terms re-derived: the change the note schedules, its rate from the index value it names (a
    value on the index's stream), the P&I recast on the balance scheduled, the notice windows."""
    p, boarded = event.fact, state.boarded
    _require_principal(event, 0)
    if state.modified_on is not None:
        raise LoanDiscrepancy(f"changes the terms of a loan modified on {state.modified_on.isoformat()}: the "
                              "modification's terms replace the note's")
    due = {c.first_due_date: c for c in scheduled_changes(boarded.loan_terms, boarded.first_payment_date)}
    change = due.get(p.first_due_date)
    if change is None or change.reason != p.reason:
        raise LoanDiscrepancy(f"its loan's note schedules no {p.reason} from {p.first_due_date.isoformat()}")
    if event.effective_date < change.recordable_on:
        raise LoanDiscrepancy(f"is recorded on {event.effective_date}, before it could be ({change.recordable_on})")
    if p.reason == ARM_RESET and (p.index_date is None or p.index_date > change.recordable_on or not
                                  IndexValue.objects.filter(index=p.index, on=p.index_date,
                                                            percent=p.index_value).exists()):
        raise LoanDiscrepancy(f"reads {p.index} {p.index_value}% on {p.index_date}, which its index does not hold "
                              f"on or before its look-back day {change.recordable_on}")
    decision = decide(change, terms=boarded.loan_terms, initial_rate=boarded.note_rate, index_value=p.index_value,
                      figures=figures_of(state))
    notices = decision.notices
    expected = {"note_rate": decision.note_rate, "payment_pi_cents": decision.payment_pi_cents,
                "scheduled_balance_cents": decision.scheduled_balance_cents, "limited_by": decision.limited_by,
                "note_rate_before": decision.note_rate_before, "first_installment": change.first_installment,
                "notice_by": notices.notice_by if notices else None,
                "initial_notice_by": notices.initial_notice_by if notices else None}
    for name, value in expected.items():
        if getattr(p, name) != value:
            raise LoanDiscrepancy(f"it says {name} {getattr(p, name)}; its facts re-derive {value}")
    p.apply_decision(state)


def _bankruptcy(state: Derived, event: LoanEvent) -> None:
    """A case filed, moved or ended: allowed by the cases before it; the position's case is the open one."""
    fact = event.fact
    _require_principal(event, 0)
    if fact.on != event.effective_date:
        raise LoanDiscrepancy(f"is dated {fact.on.isoformat()} but effective {event.effective_date.isoformat()}")
    try:
        state.bankruptcy_cases = cases_after(state.bankruptcy_cases, fact)
    except BankruptcyRefused as refused:
        raise LoanDiscrepancy(str(refused)) from None
    case = state.bankruptcy_cases.open_case
    state.bankruptcy_chapter = case.chapter if case else None
    state.bankruptcy_filed_on = case.filed_on if case else None


_STAYED = {LateChargeAssessed.event_type, ForeclosureStarted.event_type, ReoAcquired.event_type,
           LoanLiquidated.event_type}


def _stay_respected(state: Derived, event: LoanEvent) -> None:
    """No late charge owed on a day of a stay, no foreclosure step dated while it held (cases known then)."""
    if not state.bankruptcy_cases.cases or event.event_type not in _STAYED:
        return
    fact = event.fact
    day = (fact.due_date + relativedelta(days=fact.grace_days + 1) if isinstance(fact, LateChargeAssessed)
           else event.effective_date)
    case = state.bankruptcy_cases.stay_on(day)
    if case is not None:
        raise LoanDiscrepancy(f"is a collection act on {day.isoformat()}, while the automatic stay of "
                              f"{case.describe()} was in effect")


def _unknown(state: Derived, event: LoanEvent) -> None:
    """An event type this check has no money rule for: its snapshot is taken, its principal posting must agree."""
    after = v1_snapshot_of(event.payload) or {}
    principal = after.get("principal_balance_cents", state.principal_balance_cents)
    _require_principal(event, principal - state.principal_balance_cents)
    for name in COMPARED:
        if name in after:
            value = after[name]
            setattr(state, name, date.fromisoformat(value) if name in _DATES and value else value)


def _no_money(state: Derived, event: LoanEvent) -> None:
    """An event that moves no loan figure (an escrow item added, a refund paid out of the refund account)."""
    event.fact  # noqa: B018  (read, so a payload its class cannot read is named)
    _require_principal(event, 0)


def _status(status: LoanStatus):
    def step(state: Derived, event: LoanEvent) -> None:
        _require_principal(event, 0)
        state.status = status.value

    return step


# --- Loss mitigation: each step re-derived by servicing.domain.loss_mitigation --------------------------


def _require_same(what: str, recorded: dict, derived: dict) -> None:
    for name, value in derived.items():
        if recorded[name] != value:
            raise LoanDiscrepancy(f"{what} says {name} {recorded[name]}; the position before it gives {value}")


def _forbearance_started(state: Derived, event: LoanEvent) -> None:
    f = event.fact
    _require_principal(event, 0)
    _require_same("the forbearance", {"covered_due_dates": f.covered_due_dates},
                  {"covered_due_dates": lm.cycle_from(state.next_due_date, f.started_on, f.months)})
    state.loss_mitigation = lm.FORBEARANCE


def _forbearance_ended(state: Derived, event: LoanEvent) -> None:
    _require_principal(event, 0)
    state.loss_mitigation = ""


def _payment_deferred(state: Derived, event: LoanEvent) -> None:
    f = event.fact
    d = lm.deferral(principal_balance_cents=state.principal_balance_cents, note_rate=state.note_rate,
                    payment_pi_cents=state.payment_pi_cents, next_due_date=state.next_due_date,
                    escrow_advance_cents=state.escrow_advance_cents,
                    late_charges_due_cents=state.late_charges_due_cents, on=f.deferred_on)
    names = ("due_dates", "principal_cents", "interest_cents", "escrow_advance_cents", "late_charges_waived_cents",
             "next_due_date_after")
    _require_same("the deferral", {n: getattr(f, n) for n in names}, {n: getattr(d, n) for n in names})
    _require_principal(event, -d.principal_cents)
    f.fold_into(state)


def _repayment_plan_started(state: Derived, event: LoanEvent) -> None:
    f = event.fact
    t = lm.repayment_plan(next_due_date=state.next_due_date, payment_pi_cents=state.payment_pi_cents,
                          escrow_monthly_cents=state.escrow_monthly_cents, suspense_cents=state.suspense_cents,
                          started_on=f.started_on, months=f.months)
    names = ("arrears_cents", "regular_installment_cents", "due_dates", "amounts_cents")
    _require_same("the repayment plan", {n: getattr(f, n) for n in names}, {n: getattr(t, n) for n in names})
    _require_principal(event, 0)
    state.plan = (f.started_on, t.due_dates, t.amounts_cents)
    state.loss_mitigation = lm.REPAYMENT_PLAN


def _trial_started(state: Derived, event: LoanEvent) -> None:
    f = event.fact
    dues = lm.trial_due_dates(next_due_date=state.next_due_date, started_on=f.started_on, months=f.months)
    _require_same("the trial plan", {"due_dates": f.due_dates}, {"due_dates": dues})
    _require_principal(event, 0)
    state.plan = (f.started_on, dues, (f.payment_cents,) * f.months)
    state.loss_mitigation = lm.TRIAL


def _plan_ended(state: Derived, event: LoanEvent) -> None:
    f = event.fact
    if state.plan is None:
        raise LoanDiscrepancy("ends a plan the loan is not in")
    started_on, dues, amounts = state.plan
    v = lm.plan_verdict(due_dates=dues, amounts=amounts, payments=list(state.received.values()),
                        started_on=started_on, on=f.ended_on)
    if not (v.kept or v.broken):
        raise LoanDiscrepancy(f"ends a plan still running on {f.ended_on.isoformat()}")
    names = ("kept", "received_cents", "required_cents")
    _require_same("the plan's end", {n: getattr(f, n) for n in names}, {n: getattr(v, n) for n in names})
    _require_principal(event, 0)
    f.fold_into(state)


def _modified(state: Derived, event: LoanEvent) -> None:
    f = event.fact
    if state.loss_mitigation != lm.TRIAL or state.plan is None:
        raise LoanDiscrepancy("modifies a loan whose trial was not kept")
    m = lm.modification(principal_balance_cents=state.principal_balance_cents, note_rate=state.note_rate,
                        next_due_date=state.next_due_date, escrow_advance_cents=state.escrow_advance_cents,
                        fees_due_cents=state.fees_due_cents, late_charges_due_cents=state.late_charges_due_cents,
                        on=f.modified_on, new_note_rate=f.note_rate, term_months=f.term_months,
                        first_payment_date=f.first_payment_date,
                        principal_forbearance_cents=f.principal_forbearance_cents, forgiven_cents=f.forgiven_cents)
    names = ("missed_due_dates", "principal_before_cents", "missed_interest_cents", "escrow_advance_cents",
             "fees_cents", "late_charges_waived_cents", "principal_after_cents", "maturity_date", "payment_pi_cents")
    _require_same("the modification", {n: getattr(f, n) for n in names}, {n: getattr(m, n) for n in names})
    _require_collections(event, realized_loss=m.forgiven_cents)
    _require_principal(event, m.principal_after_cents - state.principal_balance_cents)
    state.plan = None
    state.modified_on = f.modified_on
    f.fold_into(state)


_STEPS = {cls.event_type: step for cls, step in (
    (PaymentPosted, _payment), (PaymentReturned, _returned), (LoanPaidOff, _paid_off),
    (LoanLiquidated, _disposed), (LoanChargedOff, _disposed), (EscrowDisbursed, _disbursed),
    (EscrowAnalyzed, _analyzed), (LateChargeAssessed, _late_charge), (DelinquencyChanged, _aged),
    (ForeclosureStarted, _status(LoanStatus.FORECLOSURE)), (ReoAcquired, _status(LoanStatus.REO)),
    (EscrowItemAdded, _no_money), (BorrowerRefundPaid, _no_money), (LoanTermsChanged, _terms_changed),
    (ForbearanceStarted, _forbearance_started), (ForbearanceEnded, _forbearance_ended),
    (PaymentDeferred, _payment_deferred), (RepaymentPlanStarted, _repayment_plan_started),
    (TrialPlanStarted, _trial_started), (RepaymentPlanEnded, _plan_ended), (TrialPlanEnded, _plan_ended),
    (LoanModified, _modified),
    *((cls, _bankruptcy) for cls in BANKRUPTCY_EVENTS),
)}
