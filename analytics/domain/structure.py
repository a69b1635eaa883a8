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
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from analytics.domain.cents import PaidMonth
from remittance.domain.close_figures import Carried, LoanFacts, close_figures
from remittance.domain.waterfall import ClassState, WaterfallResult, carried_forward

NOT_PAYING = "{}:not-paying"


@dataclass(frozen=True, slots=True, kw_only=True)
class Structure:
    """The classes as they stand when the projection starts, and what the deal deducts before them.

    original_faces: each class's original face in cents (the close splits
    payments among holders by it; the projection has no holders, so it only
    has to be positive). fee rates are per repline (loan), in `fee_rates`.
    note_rates: each repline's gross WAC, the note rate of the one loan it is in the close.
    """

    classes: tuple[ClassState, ...]
    original_faces: Mapping[str, int]
    fee_rates: Mapping[str, Decimal]
    note_rates: Mapping[str, Decimal]
    issuer_spread_rate: Decimal = Decimal(0)
    fee_shortfall_cents: int = 0
    spread_shortfall_cents: int = 0


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
    """Close every projected month in turn, carrying the classes and unpaid fees forward."""
    months = max((len(p) for p in paid.values()), default=0)
    classes = structure.classes
    fee_short, spread_short = structure.fee_shortfall_cents, structure.spread_shortfall_cents
    result = []
    for k in range(months):
        month = tuple(p[k] for p in paid.values() if k < len(p))
        figures = close_figures(
            loans=[fact for m in month for fact in _facts(m, structure)],
            carried=Carried(classes=classes, fee_shortfall_cents=fee_short, spread_shortfall_cents=spread_short),
            issuer_spread_rate=structure.issuer_spread_rate, scheduled=False,
            original_faces=structure.original_faces, holders={},
        )
        waterfall = figures.waterfall
        result.append(StructuredMonth(period=k + 1, collateral=month, waterfall=waterfall))
        classes = carried_forward(classes=classes, result=waterfall)
        fee_short, spread_short = waterfall.fee_shortfall_cents, waterfall.spread_shortfall_cents
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
