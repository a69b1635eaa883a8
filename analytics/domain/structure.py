"""The deal's classes paid from the projected collateral, month by month, by the close's own code.

There is one waterfall in the codebase. Each projected month is handed to
`remittance.domain.close_figures.close_figures`, the pure function the month-end close
runs on a period's facts: it computes the servicing fee (each loan's
beginning balance x its fee rate / 12, on the loans whose interest was
collected) and the issuer's spread (the pool's beginning balance x the
spread rate / 12) and runs `remittance.domain.waterfall.run_waterfall`. A trust
whose borrowers pay exactly the projected amounts therefore closes to
exactly the projected class payments.

Each repline-month becomes the facts of one "loan" (a trust's replines are
its loans, under their own numbers). When defaults stop a part of a repline
paying interest (no advancing), that part is a second, non-paying loan of
the month, so it bears no servicing fee, as the close would have it and as
the standard's net interest (ACT INT) has it. The advancing assumption is
already in the projected amounts, so the close's own advancing (for
scheduled/scheduled trusts) is not applied again: the facts are closed as
actual/actual.

The deal's own structure (trusts.domain.deal_structure: PAC schedules, accrual, IO/PO, NAS, triggers,
over-collateralisation, reserve, trustee fee) runs in the same call: each month is closed with the
deal's `DealStructure` and a `PeriodStanding` (its period number, the pool's cut-off balance; no
delinquency and no call in a projection), and what the close carries from one period to the next
(the trustee fee left unpaid, the reserve account, cumulative losses, a sticky trigger failed) is
carried here month to month by `carried_after`, from the close's own figures.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from analytics.domain.cents import PaidMonth
from remittance.domain.close_figures import Carried, CloseFigures, LoanFacts, PeriodStanding, close_figures
from remittance.domain.waterfall import ClassState, WaterfallResult, carried_forward
from trusts.domain.deal_structure import STANDARD_STRUCTURE, DealStructure

NOT_PAYING = "{}:not-paying"


@dataclass(frozen=True, slots=True, kw_only=True)
class Structure:
    """The classes as they stand when the projection starts, and what the deal deducts before them.

    original_faces: each class's original face in cents (the close splits
    payments among holders by it; the projection has no holders, so it only
    has to be positive). fee rates are per repline (loan), in `fee_rates`.
    note_rates: each repline's gross WAC, the note rate of the one loan it is in the close.
    deal: the deal's declared structure (its classes' features are put on the class states by
    `run_structure`, so a caller need not). cutoff_balance_cents: the pool's balance at its cut-off
    (what cumulative-loss triggers and over-collateralisation are measured against); 0 takes the
    pool's balance as the projection starts. first_period_number: the deal's period number of the
    first projected month (1 for a new deal). The rest is what the last close carried (all zero for a
    new deal); reserve_balance_cents None is a new deal's: the reserve's initial deposit.
    """

    classes: tuple[ClassState, ...]
    original_faces: Mapping[str, int]
    fee_rates: Mapping[str, Decimal]
    note_rates: Mapping[str, Decimal]
    issuer_spread_rate: Decimal = Decimal(0)
    fee_shortfall_cents: int = 0
    spread_shortfall_cents: int = 0
    deal: DealStructure = STANDARD_STRUCTURE
    cutoff_balance_cents: int = 0
    first_period_number: int = 1
    trustee_fee_shortfall_cents: int = 0
    reserve_balance_cents: int | None = None
    cumulative_loss_cents: int = 0
    trigger_failed: bool = False

    def opening(self) -> Carried:
        """What the first projected month's close starts from: the classes (with their features) and the deal's state."""
        deal = self.deal
        reserve = self.reserve_balance_cents
        if reserve is None:
            reserve = deal.reserve.initial_deposit_cents if deal.reserve is not None else 0
        return Carried(
            classes=with_features(self.classes, deal), fee_shortfall_cents=self.fee_shortfall_cents,
            spread_shortfall_cents=self.spread_shortfall_cents,
            trustee_fee_shortfall_cents=self.trustee_fee_shortfall_cents, reserve_balance_cents=reserve,
            cumulative_loss_cents=self.cumulative_loss_cents, trigger_failed=self.trigger_failed,
        )


def with_features(classes: Sequence[ClassState], deal: DealStructure) -> tuple[ClassState, ...]:
    """The class states with the features the deal declares for them (a class it does not name keeps its own)."""
    return tuple(replace(c, features=deal.features[c.name]) if c.name in deal.features else c for c in classes)


def carried_after(carried: Carried, figures: CloseFigures) -> Carried:
    """What one period's close leaves to the next, as the close records it (its PeriodClosed): the classes
    and unpaid fees, the trustee fee left unpaid, the reserve's end balance, the cumulative loss and a
    sticky trigger failure (the close's own `cumulative_loss_cents` and `trigger_failed`)."""
    waterfall = figures.waterfall
    return replace(
        carried, classes=carried_forward(classes=carried.classes, result=waterfall),
        fee_shortfall_cents=waterfall.fee_shortfall_cents, spread_shortfall_cents=waterfall.spread_shortfall_cents,
        trustee_fee_shortfall_cents=waterfall.trustee_fee_shortfall_cents,
        reserve_balance_cents=waterfall.reserve_balance_end_cents,
        cumulative_loss_cents=figures.cumulative_loss_cents, trigger_failed=figures.trigger_failed,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StructuredMonth:
    """One projected month: the collateral's cents (summed over replines) and the waterfall's result."""

    period: int
    collateral: tuple[PaidMonth, ...] = field(repr=False)
    waterfall: WaterfallResult

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.collateral)

    @property
    def smm(self) -> float:
        """The pool's SMM for the month: the replines' rates weighted by the balances they applied to."""
        base = sum(p.prepayment_base for p in self.collateral)
        return sum(p.smm * p.prepayment_base for p in self.collateral) / base if base > 0 else 0.0

    @property
    def interest_net_cents(self) -> int:
        """Interest left for the classes (and the residual) after the servicing fee and the spread paid."""
        w = self.waterfall
        return w.interest_collected_cents - w.fee_paid_cents - w.spread_paid_cents


def run_structure(paid: Mapping[str, Sequence[PaidMonth]], structure: Structure) -> list[StructuredMonth]:
    """Close every projected month in turn, by the deal's own steps, carrying the classes and the deal's state forward."""
    months = max((len(p) for p in paid.values()), default=0)
    carried = structure.opening()
    cutoff = structure.cutoff_balance_cents or sum(p[0].balance_begin_cents for p in paid.values() if p)
    result = []
    for k in range(months):
        month = tuple(p[k] for p in paid.values() if k < len(p))
        figures = close_figures(
            loans=[fact for m in month for fact in _facts(m, structure)], carried=carried,
            issuer_spread_rate=structure.issuer_spread_rate, scheduled=False,
            original_faces=structure.original_faces, holders={}, structure=structure.deal,
            # A projection has every loan current (no delinquency) and never exercises the call.
            standing=PeriodStanding(period_number=structure.first_period_number + k, cutoff_balance_cents=cutoff),
        )
        waterfall = figures.waterfall
        result.append(StructuredMonth(period=k + 1, collateral=month, waterfall=waterfall))
        carried = carried_after(carried, figures)
    return result


def _facts(month: PaidMonth, structure: Structure) -> list[LoanFacts]:
    name = month.name
    rates: dict[str, Any] = {"note_rate": structure.note_rates[name], "servicing_fee_rate": structure.fee_rates[name]}
    paying = LoanFacts(
        loan_number=name, balance_begin_cents=month.interest_bearing_cents,
        balance_end_cents=month.balance_end_cents, payment_pi_cents=month.payment_cents,
        interest_cents=month.interest_cents, scheduled_principal_cents=month.scheduled_principal_cents,
        curtailment_cents=month.prepayment_cents, **rates,
    )
    not_paying = month.balance_begin_cents - month.interest_bearing_cents
    if not not_paying and not (month.recovery_cents or month.loss_cents):
        return [paying]
    # Liquidation proceeds and losses belong to the loans in foreclosure, which pay no interest.
    return [paying, LoanFacts(
        loan_number=NOT_PAYING.format(name), balance_begin_cents=not_paying, balance_end_cents=0,
        payment_pi_cents=0, liquidation_principal_cents=month.recovery_cents,
        realized_loss_cents=month.loss_cents, **rates,
    )]
