"""The facts of a loan's stream: one frozen, versioned class per event type.

Each event records what happened (the money received, the bill paid, the
sale) and what the service decided about it (how the money was applied, the
new due date, the status), never the position it left. `fold_into(position)`
applies that decision to the position before the event, with plain integer
arithmetic: the money math ran once, in the service; the LoanPosition
projection, the services computing the next event of a batch and the
verifier all fold the same way.

Version 1 of every money event (everything recorded before events were typed)
carried a `position_after` snapshot instead of a decision for some fields.
The upcasters read such a payload into the current class: the decision is
filled from the v1 facts where they hold it, and the snapshot is kept as
`legacy_position_after`, which the fold copies for those events only, so an
old stream replays to exactly the positions it always did. New events never
write it.

Every money event carries `collections`: the six figures the month-end close
sums (the CollectionLine projection copies them).

This module is pure: no Django import.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, cast

from dateutil.relativedelta import relativedelta

from ledger.events import DomainEvent, event_class, upcaster
from ledger.domain.records import RecordedEvent
from servicing.domain.loan_terms import LoanTerms, TermsStep, steps_from_json, terms_on, timeline_with

# The LoanPosition fields a v1 `position_after` may name (the fold copies them for v1 events).
POSITION_FIELDS = (
    "principal_balance_cents", "next_due_date", "suspense_cents", "escrow_balance_cents", "escrow_advance_cents",
    "late_charges_due_cents", "fees_due_cents", "status", "last_payment_date", "escrow_monthly_cents",
    "delinquency_bucket", "realized_loss_cents",
)
DATE_FIELDS = frozenset({"next_due_date", "last_payment_date"})
# The balances a payment moves by an amount (what a return gives back).
BALANCE_FIELDS = ("principal_balance_cents", "suspense_cents", "escrow_balance_cents", "escrow_advance_cents",
                  "late_charges_due_cents", "fees_due_cents")

# Statuses, as LoanStatus stores them (servicing.models; repeated here so this module needs no Django).
FORECLOSURE, REO, PAID_OFF, LIQUIDATED, CHARGED_OFF = "foreclosure", "reo", "paid_off", "liquidated", "charged_off"


class Position(Protocol):
    """What a fold writes to: a LoanPosition row, an unsaved copy, or the verifier's re-derived state."""

    principal_balance_cents: int
    next_due_date: date
    last_payment_date: date | None
    suspense_cents: int
    escrow_balance_cents: int
    escrow_advance_cents: int
    late_charges_due_cents: int
    fees_due_cents: int
    escrow_monthly_cents: int
    status: str
    delinquency_bucket: str
    realized_loss_cents: int
    deferred_principal_cents: int
    loss_mitigation: str
    bankruptcy_chapter: int | None
    bankruptcy_filed_on: date | None
    # Loan products (issue 20): the terms in force for the next due date, and their timeline (JSON lists of
    # servicing.domain.loan_terms.TermsStep; empty while the boarded terms never changed).
    note_rate: Decimal
    payment_pi_cents: int
    terms_changes: list[Any]
    balloon_due_date: date | None


@dataclass(frozen=True, slots=True)
class Collections:
    """What an event collected, by kind, as the month-end close sums it (negative on a return)."""

    interest_cents: int = 0
    scheduled_principal_cents: int = 0
    curtailment_cents: int = 0
    payoff_principal_cents: int = 0
    liquidation_principal_cents: int = 0
    realized_loss_cents: int = 0

    def __post_init__(self) -> None:
        # By the names taken once below (COLLECTION_KEYS): every money event builds one of these.
        for name in COLLECTION_KEYS:
            if type(getattr(self, name)) is not int:
                raise ValueError(f"{name} must be integer cents, not {type(getattr(self, name)).__name__}")

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in dataclasses.fields(self))

    def negated(self) -> Collections:
        """The collections of this event reversed: every amount with its sign flipped."""
        return Collections(**{f.name: -getattr(self, f.name) for f in dataclasses.fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


COLLECTION_KEYS = tuple(f.name for f in dataclasses.fields(Collections))


class _Collecting(Protocol):
    """A loan event that records what it collected: every declared loan event but the boarding."""

    @property
    def collections(self) -> Collections: ...


def copy_snapshot(position: Position, after: dict[str, Any]) -> Position:
    """Set the fields a v1 `position_after` names (ISO dates parsed) and return the position."""
    for name, value in after.items():
        if name not in POSITION_FIELDS:
            raise ValueError(f"position_after names {name!r}, which is not a LoanPosition field we copy")
        if name in DATE_FIELDS and value is not None:
            value = date.fromisoformat(value)
        setattr(position, name, value)
    return position


@dataclass(frozen=True, slots=True)
class LoanFact(DomainEvent):
    """Base of the loan-stream events: the fold, and the legacy snapshot left out of new payloads."""

    def to_payload(self) -> dict[str, Any]:
        payload = DomainEvent.to_payload(self)
        if payload.get("legacy_position_after", 0) is None:
            del payload["legacy_position_after"]  # a snapshot is read from v1 events, never written
        return payload

    def fold_into(self, position: Position) -> Position:
        """The position after this event: the decision applied (or, for a v1 event, its snapshot copied)."""
        legacy = getattr(self, "legacy_position_after", None)
        if legacy is not None:
            return copy_snapshot(position, legacy)
        self.apply_decision(position)
        return terms_for_next_due(position)

    def apply_decision(self, position: Position) -> None:
        """Events that move no figure (an item added, a refund paid from the refund account) change nothing."""


def terms_for_next_due(position: Position) -> Position:
    """Set the rate and P&I in force for the position's next due date from its terms timeline (if any): a
    payment that moves the due date past a change, or a return that moves it back, moves the terms with it."""
    if getattr(position, "terms_changes", None):  # a position-like without products (a test's) has none
        position.note_rate, position.payment_pi_cents = terms_on(
            steps_from_json(position.terms_changes), position.next_due_date, position.note_rate,
            position.payment_pi_cents)
    return position


def _v1_snapshot(payload: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A v1 payload with its `position_after` kept as the legacy snapshot (and `drop` keys removed)."""
    data = {k: v for k, v in payload.items() if k not in ("position_after", "position_before", *drop)}
    data["legacy_position_after"] = v1_snapshot_of(payload)
    if "collections" in data and not data["collections"]:
        data["collections"] = {}
    return data


# --- Boarding -----------------------------------------------------------------------------------------


@event_class
@dataclass(frozen=True, slots=True)
class LoanBoarded(LoanFact):
    """A loan taken on for servicing, with every term of the tape: the loan, its borrower and property rows
    are projections of this event (boarded on its effective date)."""

    event_type: ClassVar[str] = "LoanBoarded"
    schema_version: ClassVar[int] = 2

    loan_number: str
    borrower_name: str
    property_address: str
    property_type: str
    property_value_cents: int
    original_balance_cents: int
    current_balance_cents: int
    note_rate: Decimal
    term_months: int
    first_payment_date: date
    next_due_date: date
    servicing_fee_rate: Decimal
    escrow_monthly_cents: int
    autopay: bool
    payment_pi_cents: int
    # Version 2: the product and amortization snapshot (None reads as fixed and fully amortizing).
    terms: LoanTerms | None = None

    @property
    def collections(self) -> Collections:
        return Collections()

    @property
    def loan_terms(self) -> LoanTerms:
        return self.terms or LoanTerms.fixed(self.term_months)

    @property
    def balloon_due_date(self) -> date | None:
        return self.loan_terms.balloon_due_date(self.first_payment_date)


@upcaster(LoanBoarded, from_version=1)
def _loan_boarded_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """Every loan boarded before products: fixed rate, fully amortizing over its term."""
    return {**payload, "terms": {"product": "fixed", "term_months": payload["term_months"],
                                 "amortization_months": payload["term_months"], "interest_only_months": 0,
                                 "arm": None}}


# --- Terms ----------------------------------------------------------------------------------------------

@event_class
@dataclass(frozen=True, slots=True)
class LoanTermsChanged(LoanFact):
    """The rate and P&I of a loan's installments from `first_due_date` on: an ARM's rate change or the end of an
    interest-only period, with how they were set (index, caps, the balance recast) and the notice windows.

    Recorded ahead of the change (servicing.services.terms_changes); the fold adds it to the position's terms
    timeline, so installments due before it stay at the old terms, however late they are paid."""

    event_type: ClassVar[str] = "LoanTermsChanged"
    schema_version: ClassVar[int] = 1

    loan_number: str
    reason: str  # "arm_reset" or "io_period_ended" (servicing.domain.terms_changes)
    change_date: date
    first_due_date: date
    first_installment: int
    note_rate_before: Decimal
    note_rate: Decimal
    payment_pi_cents_before: int
    payment_pi_cents: int
    scheduled_balance_cents: int  # the balance the P&I was recast on: as scheduled at the change
    index: str = ""
    index_date: date | None = None
    index_value: Decimal | None = None
    fully_indexed_rate: Decimal | None = None
    limited_by: str = ""
    notice_from: date | None = None  # Regulation Z 1026.20(c) window
    notice_by: date | None = None
    initial_notice_from: date | None = None  # 1026.20(d) window (the first change only)
    initial_notice_by: date | None = None
    collections: Collections = field(default_factory=Collections)

    def apply_decision(self, position: Position) -> None:
        steps = timeline_with(steps_from_json(position.terms_changes),
                              TermsStep(self.first_due_date, self.note_rate, self.payment_pi_cents),
                              rate_before=position.note_rate, pi_before=position.payment_pi_cents)
        position.terms_changes = [s.as_json() for s in steps]


# --- Collections ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentApplied:
    """How a payment was applied: the parts, the escrow split, the installments satisfied and the due dates."""

    interest_cents: int
    principal_cents: int
    curtailment_cents: int
    escrow_cents: int
    escrow_advance_repaid_cents: int
    escrow_deposit_cents: int
    late_charges_cents: int
    fees_cents: int
    to_suspense_cents: int
    from_suspense_cents: int
    installments_paid: int
    due_dates_paid: tuple[date, ...]
    next_due_date_after: date
    # None only for a v1 payload recorded without its position before.
    next_due_date_before: date | None = None

    def balance_changes(self) -> dict[str, int]:
        """The amount by which the payment moved each balance (what a return adds back, negated)."""
        return {
            "principal_balance_cents": -(self.principal_cents + self.curtailment_cents),
            "suspense_cents": self.to_suspense_cents - self.from_suspense_cents,
            "escrow_balance_cents": self.escrow_deposit_cents,
            "escrow_advance_cents": -self.escrow_advance_repaid_cents,
            "late_charges_due_cents": -self.late_charges_cents,
            "fees_due_cents": -self.fees_cents,
        }


@event_class
@dataclass(frozen=True, slots=True)
class PaymentPosted(LoanFact):
    """Money received on a loan (the request as asked) and how it was applied."""

    event_type: ClassVar[str] = "PaymentPosted"
    schema_version: ClassVar[int] = 2

    loan_number: str
    reference: str
    amount_cents: int
    received_on: date
    principal_only: bool
    application: PaymentApplied
    collections: Collections
    legacy_position_after: dict[str, Any] | None = None

    @property
    def principal_paid_cents(self) -> int:
        return self.application.principal_cents + self.application.curtailment_cents

    def apply_decision(self, position: Position) -> None:
        for name, change in self.application.balance_changes().items():
            setattr(position, name, getattr(position, name) + change)
        position.next_due_date = self.application.next_due_date_after
        position.last_payment_date = max(self.received_on, position.last_payment_date or self.received_on)


@upcaster(PaymentPosted, from_version=1)
def _payment_posted_v1(payload: dict[str, Any]) -> dict[str, Any]:
    before, after = payload.get("position_before") or {}, payload.get("position_after") or {}
    application = dict(payload.get("application") or {})
    application["next_due_date_after"] = after.get("next_due_date") or before.get("next_due_date")
    application["next_due_date_before"] = before.get("next_due_date")
    data = _v1_snapshot(payload)
    data["application"] = application
    return data


@dataclass(frozen=True, slots=True)
class PayoffSettled:
    """How a payoff settled the loan: every debt cleared, what was applied from escrow and suspense, the refund."""

    principal_cents: int
    interest_cents: int
    interest_days: int
    accrual_start: date
    per_diem_interest: Decimal
    late_charges_cents: int
    fees_cents: int
    escrow_advance_cents: int
    escrow_applied_cents: int
    suspense_applied_cents: int
    quote_total_cents: int
    refund_to_borrower_cents: int
    deferred_principal_cents: int = 0  # the non-interest-bearing balance, due at payoff


@event_class
@dataclass(frozen=True, slots=True)
class LoanPaidOff(LoanFact):
    """Money received that covered the payoff quote of its day: the loan is paid off."""

    event_type: ClassVar[str] = "LoanPaidOff"
    schema_version: ClassVar[int] = 2

    loan_number: str
    reference: str
    amount_cents: int
    received_on: date
    principal_only: bool
    payoff: PayoffSettled
    collections: Collections
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        p = self.payoff
        position.principal_balance_cents -= p.principal_cents
        position.late_charges_due_cents -= p.late_charges_cents
        position.fees_due_cents -= p.fees_cents
        position.escrow_advance_cents -= p.escrow_advance_cents
        position.escrow_balance_cents -= p.escrow_applied_cents
        position.suspense_cents -= p.suspense_applied_cents
        position.deferred_principal_cents -= p.deferred_principal_cents
        position.status = PAID_OFF
        position.last_payment_date = self.received_on


@upcaster(LoanPaidOff, from_version=1)
def _loan_paid_off_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@event_class
@dataclass(frozen=True, slots=True)
class BorrowerRefundPaid(LoanFact):
    """What a payoff received beyond the payoff, paid back to the borrower (from the refund account)."""

    event_type: ClassVar[str] = "BorrowerRefundPaid"
    schema_version: ClassVar[int] = 2

    loan_number: str
    reference: str
    refund_cents: int
    paid_on: date
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None


@upcaster(BorrowerRefundPaid, from_version=1)
def _refund_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@dataclass(frozen=True, slots=True)
class PaymentReversed:
    """How a return undid its payment: the amounts given back to each balance and the dates it restored."""

    principal_balance_cents: int
    suspense_cents: int
    escrow_balance_cents: int
    escrow_advance_cents: int
    late_charges_due_cents: int
    fees_due_cents: int
    next_due_date: date
    last_payment_date: date | None

    def balance_changes(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in BALANCE_FIELDS}


@event_class
@dataclass(frozen=True, slots=True)
class PaymentReturned(LoanFact):
    """A payment the bank returned (the payment named by its reference and log position), with its fee."""

    event_type: ClassVar[str] = "PaymentReturned"
    schema_version: ClassVar[int] = 2
    # v1 stored it under the same key (its upcaster only moves the snapshot): trusts pick the originals by it.
    stored_keys: ClassVar[frozenset[str]] = frozenset({"returned_event_position"})

    loan_number: str
    reference: str
    returned_on: date
    reason: str
    amount_cents: int
    received_on: date
    returned_event_position: int
    fee_cents: int
    collections: Collections
    requested_by: str | None = None
    approved_by: str | None = None
    # None only in a v1 payload: its snapshot held the result instead.
    reversal: PaymentReversed | None = None
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        if self.reversal is None:
            raise ValueError(f"PaymentReturned of {self.reference} holds neither its reversal nor a snapshot")
        for name, change in self.reversal.balance_changes().items():
            setattr(position, name, getattr(position, name) + change)
        position.fees_due_cents += self.fee_cents
        position.next_due_date = self.reversal.next_due_date
        position.last_payment_date = self.reversal.last_payment_date


@upcaster(PaymentReturned, from_version=1)
def _payment_returned_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


def reversal_of(payment: PaymentPosted, *, next_due_date_now: date, last_payment_standing: date | None
                ) -> PaymentReversed:
    """The decision of returning `payment` on a loan whose next due date is now `next_due_date_now`.

    Each balance gets back what the payment took from it; the due date moves back by the
    installments it paid (exactly to its old value when nothing moved it since); the last payment
    date becomes the latest payment still standing. The caller refuses a reversal that would take
    a balance below zero.
    """
    app = payment.application
    if next_due_date_now == app.next_due_date_after and app.next_due_date_before is not None:
        due = app.next_due_date_before
    else:
        due = next_due_date_now - relativedelta(months=app.installments_paid)
    back = {name: -change for name, change in app.balance_changes().items()}
    return PaymentReversed(**back, next_due_date=due, last_payment_date=last_payment_standing)


# --- Delinquency ---------------------------------------------------------------------------------------


@event_class
@dataclass(frozen=True, slots=True)
class DelinquencyChanged(LoanFact):
    """The loan's MBA delinquency bucket changed on the day it was aged."""

    event_type: ClassVar[str] = "DelinquencyChanged"
    schema_version: ClassVar[int] = 2

    from_bucket: str
    to_bucket: str
    next_due_date: date
    days_delinquent: int
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        position.delinquency_bucket = self.to_bucket


@upcaster(DelinquencyChanged, from_version=1)
def _delinquency_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@event_class
@dataclass(frozen=True, slots=True)
class LateChargeAssessed(LoanFact):
    """A late charge for an installment unpaid after its grace period."""

    event_type: ClassVar[str] = "LateChargeAssessed"
    schema_version: ClassVar[int] = 2

    due_date: date
    amount_cents: int
    rate_percent: Decimal
    grace_days: int
    payment_pi_cents: int
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        position.late_charges_due_cents += self.amount_cents


@upcaster(LateChargeAssessed, from_version=1)
def _late_charge_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


# --- Escrow --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EscrowInstallment:
    due_date: date
    amount_cents: int


@event_class
@dataclass(frozen=True, slots=True)
class EscrowItemAdded(LoanFact):
    """A bill the loan's escrow pays from now on: the EscrowItem row is a projection of this event."""

    event_type: ClassVar[str] = "EscrowItemAdded"
    schema_version: ClassVar[int] = 2

    kind: str
    payee: str
    annual_amount_cents: int
    due_dates: tuple[date, ...]
    installments: tuple[EscrowInstallment, ...] = ()
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None


@upcaster(EscrowItemAdded, from_version=1)
def _escrow_item_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@event_class
@dataclass(frozen=True, slots=True)
class EscrowDisbursed(LoanFact):
    """An escrow bill paid: what the escrow balance covered and what the servicer advanced."""

    event_type: ClassVar[str] = "EscrowDisbursed"
    schema_version: ClassVar[int] = 2

    kind: str
    payee: str
    due_date: date
    amount_cents: int
    from_escrow_cents: int
    advanced_cents: int
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        position.escrow_balance_cents -= self.from_escrow_cents
        position.escrow_advance_cents += self.advanced_cents


@upcaster(EscrowDisbursed, from_version=1)
def _escrow_disbursed_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@dataclass(frozen=True, slots=True)
class AnalyzedItem:
    kind: str
    payee: str
    annual_amount_cents: int
    disbursement_dates: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class ProjectedMonth:
    month_start: date
    deposit_cents: int
    disbursements_cents: int
    balance_cents_closing: int


@event_class
@dataclass(frozen=True, slots=True)
class EscrowAnalyzed(LoanFact):
    """The annual RESPA escrow analysis: its inputs, its figures, the new monthly escrow and any refund."""

    event_type: ClassVar[str] = "EscrowAnalyzed"
    schema_version: ClassVar[int] = 2

    computation_year_start: date
    analyzed_on: date
    delinquency_bucket: str
    borrower_current: bool
    escrow_balance_cents: int
    escrow_advance_cents: int
    previous_monthly_escrow_cents: int
    items: tuple[AnalyzedItem, ...]
    escrow_balance_cents_opening: int
    annual_disbursements_cents: int
    cushion_cents: int
    base_monthly_escrow_cents: int
    projected_low_point_cents: int
    deficiency_cents: int
    shortage_cents: int
    surplus_cents: int
    surplus_refund_cents: int
    surplus_credit_cents: int
    new_monthly_escrow_cents: int
    monthly_escrow_payments_cents: tuple[int, ...]
    projection: tuple[ProjectedMonth, ...]
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        position.escrow_balance_cents -= self.surplus_refund_cents
        position.escrow_monthly_cents = self.new_monthly_escrow_cents


@upcaster(EscrowAnalyzed, from_version=1)
def _escrow_analyzed_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


# --- Default -------------------------------------------------------------------------------------------


@event_class
@dataclass(frozen=True, slots=True)
class ForeclosureStarted(LoanFact):
    event_type: ClassVar[str] = "ForeclosureStarted"
    schema_version: ClassVar[int] = 2

    started_on: date
    days_delinquent: int
    next_due_date: date
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        position.status = FORECLOSURE


@upcaster(ForeclosureStarted, from_version=1)
def _foreclosure_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@event_class
@dataclass(frozen=True, slots=True)
class ReoAcquired(LoanFact):
    event_type: ClassVar[str] = "ReoAcquired"
    schema_version: ClassVar[int] = 2

    acquired_on: date
    foreclosure_started_on: date | None
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None

    def apply_decision(self, position: Position) -> None:
        position.status = REO


@upcaster(ReoAcquired, from_version=1)
def _reo_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@dataclass(frozen=True, slots=True)
class _Disposition(LoanFact):
    """A liquidation or charge-off: how the funds paid the loan's debts, what was lost and written off."""

    on: date
    status_before: str
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
    collections: Collections = field(default_factory=Collections)
    legacy_position_after: dict[str, Any] | None = None
    # The non-interest-bearing deferred balance: what the funds paid of it, and the rest, a loss too.
    deferred_recovered_cents: int = 0
    deferred_lost_cents: int = 0

    status_after: ClassVar[str] = ""

    def apply_decision(self, position: Position) -> None:
        position.principal_balance_cents -= self.principal_recovered_cents + self.realized_loss_cents
        position.escrow_balance_cents -= self.escrow_applied_cents
        position.suspense_cents -= self.suspense_applied_cents
        position.escrow_advance_cents -= self.advance_recovered_cents + self.advance_written_off_cents
        position.late_charges_due_cents -= self.late_charges_recovered_cents + self.late_charges_written_off_cents
        position.fees_due_cents -= self.fees_recovered_cents + self.fees_written_off_cents
        position.deferred_principal_cents -= self.deferred_recovered_cents + self.deferred_lost_cents
        position.realized_loss_cents += self.realized_loss_cents + self.deferred_lost_cents
        position.status = self.status_after


@event_class
@dataclass(frozen=True, slots=True)
class LoanLiquidated(_Disposition):
    event_type: ClassVar[str] = "LoanLiquidated"
    schema_version: ClassVar[int] = 2
    status_after: ClassVar[str] = LIQUIDATED


@event_class
@dataclass(frozen=True, slots=True)
class LoanChargedOff(_Disposition):
    event_type: ClassVar[str] = "LoanChargedOff"
    schema_version: ClassVar[int] = 2
    status_after: ClassVar[str] = CHARGED_OFF


@upcaster(LoanLiquidated, from_version=1)
def _liquidated_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


@upcaster(LoanChargedOff, from_version=1)
def _charged_off_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return _v1_snapshot(payload)


# --- Loss mitigation (the rules: servicing.domain.loss_mitigation) -------------------------------------

# LoanPosition.loss_mitigation's steps (servicing.domain.loss_mitigation holds them too; repeated as statuses are).
FORBEARANCE, REPAYMENT_PLAN, TRIAL, MODIFIED = "forbearance", "repayment_plan", "trial", "modified"


@event_class
@dataclass(frozen=True, slots=True)
class ForbearanceStarted(LoanFact):
    """Payments suspended or reduced for `months`: the installments it covers are charged no late charge."""

    event_type: ClassVar[str] = "ForbearanceStarted"
    schema_version: ClassVar[int] = 1

    started_on: date
    months: int
    reduced_payment_cents: int
    covered_due_dates: tuple[date, ...]
    collections: Collections = field(default_factory=Collections)

    def apply_decision(self, position: Position) -> None:
        position.loss_mitigation = FORBEARANCE


@event_class
@dataclass(frozen=True, slots=True)
class ForbearanceEnded(LoanFact):
    """The forbearance over; `resolution` names what follows it (a PaymentDeferred or a RepaymentPlanStarted
    recorded with it, or "none": the loan stands as its payments left it)."""

    event_type: ClassVar[str] = "ForbearanceEnded"
    schema_version: ClassVar[int] = 1

    ended_on: date
    resolution: str
    collections: Collections = field(default_factory=Collections)

    def apply_decision(self, position: Position) -> None:
        position.loss_mitigation = ""


@event_class
@dataclass(frozen=True, slots=True)
class PaymentDeferred(LoanFact):
    """The installments due and unpaid taken as paid from the non-interest-bearing deferred balance."""

    event_type: ClassVar[str] = "PaymentDeferred"
    schema_version: ClassVar[int] = 1

    deferred_on: date
    due_dates: tuple[date, ...]
    principal_cents: int
    interest_cents: int
    escrow_advance_cents: int
    late_charges_waived_cents: int
    next_due_date_before: date
    next_due_date_after: date
    collections: Collections = field(default_factory=Collections)

    @property
    def deferred_cents(self) -> int:
        return self.principal_cents + self.interest_cents + self.escrow_advance_cents

    def apply_decision(self, position: Position) -> None:
        position.principal_balance_cents -= self.principal_cents
        position.escrow_advance_cents -= self.escrow_advance_cents
        position.late_charges_due_cents -= self.late_charges_waived_cents
        position.deferred_principal_cents += self.deferred_cents
        position.next_due_date = self.next_due_date_after
        position.loss_mitigation = ""


@event_class
@dataclass(frozen=True, slots=True)
class RepaymentPlanStarted(LoanFact):
    """The arrears spread over the plan's installments, on top of the regular installment."""

    event_type: ClassVar[str] = "RepaymentPlanStarted"
    schema_version: ClassVar[int] = 1

    started_on: date
    months: int
    arrears_cents: int
    regular_installment_cents: int
    due_dates: tuple[date, ...]
    amounts_cents: tuple[int, ...]
    collections: Collections = field(default_factory=Collections)

    def apply_decision(self, position: Position) -> None:
        position.loss_mitigation = REPAYMENT_PLAN


@event_class
@dataclass(frozen=True, slots=True)
class TrialPlanStarted(LoanFact):
    """A trial period: `months` trial payments of `payment_cents`, on the loan's due dates."""

    event_type: ClassVar[str] = "TrialPlanStarted"
    schema_version: ClassVar[int] = 1

    started_on: date
    months: int
    payment_cents: int
    due_dates: tuple[date, ...]
    collections: Collections = field(default_factory=Collections)

    def apply_decision(self, position: Position) -> None:
        position.loss_mitigation = TRIAL


@dataclass(frozen=True, slots=True)
class _PlanEnded(LoanFact):
    """A repayment or trial plan judged on `ended_on` by the money received: kept or broken."""

    ended_on: date
    kept: bool
    received_cents: tuple[int, ...]
    required_cents: tuple[int, ...]
    collections: Collections = field(default_factory=Collections)

    def apply_decision(self, position: Position) -> None:
        # A kept trial waits for its modification; anything else leaves the loan as its payments left it.
        position.loss_mitigation = TRIAL if self.kept and isinstance(self, TrialPlanEnded) else ""


@event_class
@dataclass(frozen=True, slots=True)
class RepaymentPlanEnded(_PlanEnded):
    event_type: ClassVar[str] = "RepaymentPlanEnded"
    schema_version: ClassVar[int] = 1


@event_class
@dataclass(frozen=True, slots=True)
class TrialPlanEnded(_PlanEnded):
    event_type: ClassVar[str] = "TrialPlanEnded"
    schema_version: ClassVar[int] = 1


@event_class
@dataclass(frozen=True, slots=True)
class LoanModified(LoanFact):
    """A permanent modification: arrears capitalized, principal set aside or forgiven, the new terms."""

    event_type: ClassVar[str] = "LoanModified"
    schema_version: ClassVar[int] = 1

    modified_on: date
    missed_due_dates: tuple[date, ...]
    principal_before_cents: int
    missed_interest_cents: int
    escrow_advance_cents: int
    fees_cents: int
    late_charges_waived_cents: int
    principal_forbearance_cents: int
    forgiven_cents: int
    principal_after_cents: int
    note_rate: Decimal
    term_months: int
    first_payment_date: date
    maturity_date: date
    payment_pi_cents: int
    collections: Collections
    requested_by: str | None = None
    approved_by: str | None = None

    def apply_decision(self, position: Position) -> None:
        position.principal_balance_cents = self.principal_after_cents
        position.deferred_principal_cents += self.principal_forbearance_cents
        position.escrow_advance_cents -= self.escrow_advance_cents
        position.fees_due_cents -= self.fees_cents
        position.late_charges_due_cents -= self.late_charges_waived_cents
        position.realized_loss_cents += self.forgiven_cents
        position.note_rate = self.note_rate
        position.payment_pi_cents = self.payment_pi_cents
        position.next_due_date = self.first_payment_date
        position.loss_mitigation = MODIFIED
        # The new terms hold for every installment from the first modified one (the missed ones were
        # capitalized), so a product's timeline of changes (ARM, interest-only) and its balloon end here.
        if getattr(position, "terms_changes", None):
            position.terms_changes = []
        if getattr(position, "balloon_due_date", None) is not None:
            position.balloon_due_date = None


LOSS_MITIGATION_EVENTS: tuple[type[LoanFact], ...] = (
    ForbearanceStarted, ForbearanceEnded, PaymentDeferred, RepaymentPlanStarted, RepaymentPlanEnded,
    TrialPlanStarted, TrialPlanEnded, LoanModified,
)


# --- Bankruptcy (issue 20) -----------------------------------------------------------------------------


@event_class
@dataclass(frozen=True, slots=True)
class BankruptcyFiled(LoanFact):
    """The borrower filed for bankruptcy: the automatic stay arises (servicing.domain.bankruptcy)."""

    event_type: ClassVar[str] = "BankruptcyFiled"
    schema_version: ClassVar[int] = 1

    case_number: str
    chapter: int
    court: str
    filed_on: date
    collections: Collections = field(default_factory=Collections)

    @property
    def on(self) -> date:
        """The day of the fact, as every later step of a case names it."""
        return self.filed_on

    def apply_decision(self, position: Position) -> None:
        position.bankruptcy_chapter = self.chapter
        position.bankruptcy_filed_on = self.filed_on


@dataclass(frozen=True, slots=True)
class _CaseStep(LoanFact):
    """A later step of the open case, on its day (the case named by its number)."""

    case_number: str
    on: date
    collections: Collections = field(default_factory=Collections)


@event_class
@dataclass(frozen=True, slots=True)
class BankruptcyPlanConfirmed(_CaseStep):
    """The court confirmed the chapter 13 plan (the stay goes on)."""

    event_type: ClassVar[str] = "BankruptcyPlanConfirmed"
    schema_version: ClassVar[int] = 1


@event_class
@dataclass(frozen=True, slots=True)
class ReliefFromStayGranted(_CaseStep):
    """The court lifted the automatic stay for this loan; the case stays open."""

    event_type: ClassVar[str] = "ReliefFromStayGranted"
    schema_version: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class _CaseEnded(_CaseStep):
    """The case closed: the position no longer holds an open case."""

    def apply_decision(self, position: Position) -> None:
        position.bankruptcy_chapter = None
        position.bankruptcy_filed_on = None


@event_class
@dataclass(frozen=True, slots=True)
class BankruptcyDischarged(_CaseEnded):
    """The court discharged the borrower's personal liability (chapter 7, or a chapter 13 plan completed)."""

    event_type: ClassVar[str] = "BankruptcyDischarged"
    schema_version: ClassVar[int] = 1


@event_class
@dataclass(frozen=True, slots=True)
class BankruptcyDismissed(_CaseEnded):
    """The case was dismissed (e.g. a chapter 13 plan not kept): the debt stands as it was, the stay ends."""

    event_type: ClassVar[str] = "BankruptcyDismissed"
    schema_version: ClassVar[int] = 1


BANKRUPTCY_EVENTS: tuple[type[LoanFact], ...] = (
    BankruptcyFiled, BankruptcyPlanConfirmed, ReliefFromStayGranted, BankruptcyDischarged, BankruptcyDismissed)


# --- Index values (the `index:<name>` streams an ARM's rate is read from) -------------------------------


@event_class
@dataclass(frozen=True, slots=True)
class IndexValueRecorded(DomainEvent):
    """An index's published value for a day (percent), loaded from a file: ARM rate changes read it."""

    event_type: ClassVar[str] = "IndexValueRecorded"
    schema_version: ClassVar[int] = 1

    index: str
    on: date
    percent: Decimal
    source: str = ""


# --- Reading --------------------------------------------------------------------------------------------

LOAN_EVENTS: tuple[type[LoanFact], ...] = (
    LoanBoarded, PaymentPosted, LoanPaidOff, BorrowerRefundPaid, PaymentReturned, DelinquencyChanged,
    LateChargeAssessed, EscrowItemAdded, EscrowDisbursed, EscrowAnalyzed, ForeclosureStarted, ReoAcquired,
    LoanLiquidated, LoanChargedOff, LoanTermsChanged, *LOSS_MITIGATION_EVENTS, *BANKRUPTCY_EVENTS,
)
LOAN_EVENT_TYPES = frozenset(c.event_type for c in LOAN_EVENTS)
_BY_TYPE = {c.event_type: c for c in LOAN_EVENTS}


def v1_snapshot_of(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The position snapshot a v1 loan payload held (`position_after`), or None. A declared class's upcaster
    keeps it as `legacy_position_after`; an event of a type no class declares is read through this."""
    return payload.get("position_after")


def loan_fact(event: RecordedEvent | Any) -> LoanFact:
    """The typed fact of a recorded loan event (anything with `event_type` and `payload`)."""
    try:
        cls = _BY_TYPE[event.event_type]
    except KeyError:
        raise ValueError(f"{event.event_type} is not an event of a loan's stream") from None
    fact = getattr(event, "source_fact", None)
    if type(fact) is cls:
        return fact  # the event was just built from this very fact: its payload is fact.to_payload()
    return cls.from_payload(event.payload)


def collections_of(event: RecordedEvent | Any, fact: LoanFact | None = None) -> Collections:
    """What a loan-stream event collected: its typed fact's `collections`.

    A payload without `collections` collected nothing (as v1 read it: e.g. an event on a loan stream
    written by the ledger's own tests); an event type servicing does not declare is read by its
    payload's `collections`, if any. A caller that has already decoded the event passes its `fact`.
    """
    payload = event.payload or {}
    if "collections" not in payload:
        return Collections()
    if event.event_type in _BY_TYPE:
        # A payload with `collections` is one of a collecting event (the boarding's payload has none).
        return cast(_Collecting, fact if fact is not None else loan_fact(event)).collections
    raw = payload["collections"] or {}
    return Collections(**{k: raw[k] for k in COLLECTION_KEYS if k in raw})
