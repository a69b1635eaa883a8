"""The remittance app's events: what a month-end close records, as typed, versioned facts.

A close appends, on the trust's remittance stream (`remittance:CODE`):
CollectionsRemitted, ServicingFeePaid, IssuerSpreadPaid, one ClassDistributed
per class, ExcessPaid (when there is excess) and last PeriodClosed; and on
each holder's stream (`holder:CODE`) a DistributionPaid per class it holds.
`remittance.domain.close_events` builds them from the close's figures; consumers
(projections, reports, checks, the verifier, the summary) read them through
these classes, never by string key.

Versions. Everything recorded before events were typed is version 1 (no
`schema_version` in the payload). Version 2 of the events that name a class
calls it `class_name` (`class` is a Python keyword, so a typed field cannot
carry that name); PeriodClosed v2 also always carries the returned-payment
figures (closes recorded before returns were carried lack them: they carried
none, so the upcaster reads them as zero) and writes factors in plain decimal
form ("0.00000000"; the first closes wrote Decimal's own text, "0E-8").
CollectionsRemitted v2 always carries its returns figures for the same reason.
Version 3 (issue 21, deals as they are structured): PeriodClosed carries the period's number, the
trustee fee, the accrual, the over-collateralisation, the reserve account, the triggers as tested,
the cumulative loss, a sticky trigger failure carried on and the clean-up call; each class line
(and ClassDistributed) its kind and the interest accrued to its balance. Closes recorded before
were of the standard deal: the upcasters give zeros, None and "standard" (`STANDARD_DEAL_V3`).
TrusteeFeePaid and ReserveAccountMoved are new (version 1): a standard deal has neither.
Stored events are never rewritten: the upcasters below run every time an old
one is read, so its hash still verifies and it still replays.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from ledger.events import DomainEvent, event_class, upcaster
from trusts.events import class_named

# PeriodClosed's returned-payment figures (remittance.domain.close_figures.recover_returns), absent from closes recorded
# before returned payments were carried: they carried none.
RETURNS_ZERO: dict[str, Any] = {
    "returns_carried_in_cents": 0, "returns_new_cents": 0, "returns_recovered_cents": 0,
    "returns_outstanding_cents": 0, "returns_outstanding": [0, 0],
}


# --- Parts of PeriodClosed ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseWindow:
    """The log a close read: positions after `after_position` (the previous close's end) up to `through_position`."""

    after_position: int
    through_position: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassLine:
    """One class in a closed period: what it was owed and paid, and its balance and factor after."""

    class_name: str
    coupon: str  # the class's coupon as text ("4.5"), or "net-wac"
    balance_begin_cents: int
    interest_due_cents: int
    interest_paid_cents: int
    interest_shortfall_cents: int  # owed at the end of the period, carried to the next
    principal_paid_cents: int
    loss_written_off_cents: int
    balance_end_cents: int
    factor: str  # 8 decimals, as published
    # v3: an accrual (Z) class's interest added to its balance, not paid (balance_end includes it);
    # the class's kind (trusts.domain.deal_structure.CLASS_KINDS; an IO's balances are its notional).
    interest_accrued_cents: int = 0
    kind: str = "standard"


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerTest:
    """The deal's triggers as one close tested them (remittance.domain.waterfall.TriggerStatus, recorded).

    Percents and limits are decimal text-exact (None: the deal has no such test). failed: a test failed
    this period; in_effect: principal ran as if failed (this period, or a sticky earlier failure);
    principal_rule: the rule the classes were paid by ("sequential" or "pro-rata").
    """

    stepdown_reached: bool
    cumulative_loss_percent: Decimal
    cumulative_loss_limit: Decimal | None
    delinquency_60_percent: Decimal
    delinquency_60_limit: Decimal | None
    delinquency_90_percent: Decimal
    delinquency_90_limit: Decimal | None
    failed: bool
    in_effect: bool
    principal_rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseReconciliation:
    """The identity the close proved (remittance.domain.reconciliation.reconcile): cash in = cash out, to the cent."""

    cash_in_cents: int
    out_cents: int


# --- The events -----------------------------------------------------------------------------------------


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionsRemitted(DomainEvent):
    """The servicer's remittance into the trust's cash: collections, advances and recoveries of the period."""

    event_type: ClassVar[str] = "CollectionsRemitted"
    schema_version: ClassVar[int] = 2

    trust: str
    period: str
    collected: dict[str, int]  # by kind (remittance.domain.close_figures.COLLECTION_KINDS), net of reversals
    prior_period_cents: int
    advanced_cents: int
    recovered_cents: int
    returns_carried_in_cents: int
    returns_outstanding_cents: int
    servicer_remits_cents: int


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class ServicingFeePaid(DomainEvent):
    """The servicer's fee for the period: due (with any shortfall carried in), paid, and left unpaid."""

    event_type: ClassVar[str] = "ServicingFeePaid"

    trust: str
    period: str
    due_cents: int
    paid_cents: int
    shortfall_cents: int


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class IssuerSpreadPaid(DomainEvent):
    """The issuer's spread for the period: due (with any shortfall carried in), paid, and left unpaid."""

    event_type: ClassVar[str] = "IssuerSpreadPaid"

    trust: str
    period: str
    due_cents: int
    paid_cents: int
    shortfall_cents: int


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class TrusteeFeePaid(DomainEvent):
    """The trustee's fee for the period: due (with any shortfall carried in), paid, and left unpaid."""

    event_type: ClassVar[str] = "TrusteeFeePaid"

    trust: str
    period: str
    due_cents: int
    paid_cents: int
    shortfall_cents: int


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveAccountMoved(DomainEvent):
    """The reserve account's movements in a close: begin + funded + deposit - draw - released = end.

    funded: the initial deposit, made by the issuer at the deal's first close; draw: what the reserve
    paid of class interest; deposit: interest left paid into it; released: paid to the residual holder
    once every class is retired.
    """

    event_type: ClassVar[str] = "ReserveAccountMoved"

    trust: str
    period: str
    balance_begin_cents: int  # before the initial deposit, at the first close: 0
    funded_cents: int
    draw_cents: int
    deposit_cents: int
    released_cents: int
    balance_end_cents: int


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class ClassDistributed(DomainEvent):
    """One class's distribution for the period, and what of it went to its holders of record."""

    event_type: ClassVar[str] = "ClassDistributed"
    schema_version: ClassVar[int] = 3

    trust: str
    period: str
    class_name: str
    coupon: str
    balance_begin_cents: int
    interest_due_cents: int
    interest_paid_cents: int
    interest_shortfall_cents: int
    principal_paid_cents: int
    loss_written_off_cents: int
    balance_end_cents: int
    factor: str
    paid_to_holders_cents: int
    payment_date: date
    interest_accrued_cents: int = 0  # v3: an accrual class's interest added to its balance (not cash)
    kind: str = "standard"  # v3: the class's kind (trusts.domain.deal_structure.CLASS_KINDS)


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class ExcessPaid(DomainEvent):
    """What was left after the classes, paid to the residual holder."""

    event_type: ClassVar[str] = "ExcessPaid"

    trust: str
    period: str
    interest_cents: int
    principal_cents: int


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class DistributionPaid(DomainEvent):
    """One holder's payment on one class for one period (on the holder's own stream)."""

    event_type: ClassVar[str] = "DistributionPaid"
    schema_version: ClassVar[int] = 2

    trust: str
    period: str
    class_name: str
    face_held_cents: int  # original face held on the record date
    interest_cents: int
    principal_cents: int
    record_date: date
    payment_date: date


@event_class
@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodClosed(DomainEvent):
    """Everything one trust's period closed on: the window it read, the collections, the waterfall's
    decisions (fees, spread, each class), what the holders were paid, the pool, and who asked and approved.

    requested_by / approved_by: usernames, or None when nobody did (a scheduled close names neither).
    """

    event_type: ClassVar[str] = "PeriodClosed"
    schema_version: ClassVar[int] = 3

    trust: str
    period: str
    record_date: date
    payment_date: date
    window: CloseWindow
    collected: dict[str, int]
    prior_period_cents: int
    advanced_cents: int
    recovered_cents: int
    # loan number -> (interest, principal) advanced and not yet recovered
    advances_outstanding: dict[str, tuple[int, int]]
    returns_carried_in_cents: int
    returns_new_cents: int
    returns_recovered_cents: int
    returns_outstanding_cents: int
    returns_outstanding: tuple[int, int]  # (interest, principal) carried to the next close
    interest_available_cents: int
    principal_available_cents: int
    realized_loss_cents: int
    servicing_fee_cents: int  # this period's fee, before any shortfall carried in
    issuer_spread_cents: int
    fee_due_cents: int
    fee_paid_cents: int
    fee_shortfall_cents: int
    spread_due_cents: int
    spread_paid_cents: int
    spread_shortfall_cents: int
    classes: tuple[ClassLine, ...]
    excess_interest_cents: int
    excess_principal_cents: int
    unabsorbed_loss_cents: int
    paid_to_holders_cents: int
    holder_payments: int
    retained_cents: int
    pool_balance_begin_cents: int
    pool_balance_end_cents: int
    pool_original_cents: int
    pool_factor: str
    reconciliation: CloseReconciliation
    requested_by: str | None = None
    approved_by: str | None = None
    # v3, the deal's structure (trusts.domain.deal_structure); a standard deal's are zero/None.
    period_number: int = 0  # 1 for the first distribution; 0 on a close recorded before v3
    trustee_fee_cents: int = 0  # this period's, before any shortfall carried in
    trustee_fee_due_cents: int = 0
    trustee_fee_paid_cents: int = 0
    trustee_fee_shortfall_cents: int = 0
    accrual_cents: int = 0  # accrual classes' interest paid as principal to the classes ahead
    oc_target_cents: int = 0
    oc_end_cents: int = 0
    oc_release_cents: int = 0
    turbo_principal_cents: int = 0
    loss_absorbed_by_oc_cents: int = 0
    reserve_balance_begin_cents: int = 0  # at the period's start, the initial deposit included at the first close
    reserve_funded_cents: int = 0  # the initial deposit, at the first close
    reserve_draw_cents: int = 0
    reserve_deposit_cents: int = 0
    reserve_released_cents: int = 0
    reserve_balance_end_cents: int = 0
    triggers: TriggerTest | None = None
    cumulative_loss_cents: int = 0  # realized losses through this period
    trigger_failed: bool = False  # a sticky trigger has failed: carried on to every later close
    call_retired: bool = False  # the clean-up call retired every class this period
    call_written_off_cents: int = 0

    @property
    def excess_cents(self) -> int:
        return self.excess_interest_cents + self.excess_principal_cents

    def class_line(self, name: str) -> ClassLine | None:
        return next((c for c in self.classes if c.class_name == name), None)


# --- Upcasters: version 1 (everything recorded before events were typed) to version 2 -------------------


def _plain_factor(text: Any) -> Any:
    """A factor in plain decimal form: the first closes wrote Decimal's own text ("0E-8" for zero)."""
    try:
        return f"{Decimal(str(text)):f}"
    except (InvalidOperation, ValueError):
        return text  # not a number: from_payload names it, nothing is guessed here


@upcaster(PeriodClosed, from_version=1)
def _period_closed_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: class lines name the class `class_name`; returns figures always present; plain factors."""
    return {
        **RETURNS_ZERO, **payload,
        "classes": [{**class_named(c), "factor": _plain_factor(c["factor"])} for c in payload["classes"]],
        "pool_factor": _plain_factor(payload["pool_factor"]),
    }


@upcaster(ClassDistributed, from_version=1)
def _class_distributed_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the class is `class_name`; its factor in plain decimal form."""
    upcast = class_named(payload)
    return {**upcast, "factor": _plain_factor(upcast["factor"])}


@upcaster(DistributionPaid, from_version=1)
def _distribution_paid_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the class is `class_name`."""
    return class_named(payload)


@upcaster(CollectionsRemitted, from_version=1)
def _collections_remitted_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the returns figures, absent before returned payments were carried (none were), are zero."""
    return {"returns_carried_in_cents": 0, "returns_outstanding_cents": 0, **payload}


# --- Upcasters: version 2 to version 3 (the standard deal) ----------------------------------------------

# A class line of the standard deal, and the structure figures of a close of the standard deal.
STANDARD_CLASS_V3: dict[str, Any] = {"interest_accrued_cents": 0, "kind": "standard"}
STANDARD_DEAL_V3: dict[str, Any] = {
    "period_number": 0, "trustee_fee_cents": 0, "trustee_fee_due_cents": 0, "trustee_fee_paid_cents": 0,
    "trustee_fee_shortfall_cents": 0, "accrual_cents": 0, "oc_target_cents": 0, "oc_end_cents": 0,
    "oc_release_cents": 0, "turbo_principal_cents": 0, "loss_absorbed_by_oc_cents": 0,
    "reserve_balance_begin_cents": 0, "reserve_funded_cents": 0, "reserve_draw_cents": 0,
    "reserve_deposit_cents": 0, "reserve_released_cents": 0, "reserve_balance_end_cents": 0, "triggers": None,
    "cumulative_loss_cents": 0, "trigger_failed": False, "call_retired": False, "call_written_off_cents": 0,
}
# The PeriodClosed fields version 3 added: a close recorded before is checked on what it recorded of them.
FIELDS_ADDED_IN_V3: tuple[str, ...] = tuple(STANDARD_DEAL_V3)


@upcaster(PeriodClosed, from_version=2)
def _period_closed_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v2 -> v3: a close of the standard deal: no trustee fee, reserve, OC, triggers or call; standard classes.

    period_number 0 and cumulative_loss 0 say "not recorded" (the standard deal runs on neither)."""
    return {**STANDARD_DEAL_V3, **payload,
            "classes": [{**STANDARD_CLASS_V3, **c} for c in payload["classes"]]}


@upcaster(ClassDistributed, from_version=2)
def _class_distributed_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v2 -> v3: a standard class, nothing accrued."""
    return {**STANDARD_CLASS_V3, **payload}


CLOSE_EVENTS: tuple[type[DomainEvent], ...] = (
    CollectionsRemitted, ServicingFeePaid, IssuerSpreadPaid, TrusteeFeePaid, ReserveAccountMoved, ClassDistributed,
    ExcessPaid, DistributionPaid, PeriodClosed,
)
__all__ = ["CLOSE_EVENTS", "ClassDistributed", "ClassLine", "CloseReconciliation", "CloseWindow",
           "CollectionsRemitted", "DistributionPaid", "ExcessPaid", "IssuerSpreadPaid", "PeriodClosed",
           "ReserveAccountMoved", "ServicingFeePaid", "TriggerTest", "TrusteeFeePaid"]
