"""A deal projected under one scenario: collateral, classes through the waterfall, and their measures.

The steps, each in its own module: the standard formulas per repline
(`collateral`), the cents that get paid (`cents`), the classes paid by the
close's own waterfall (`structure`), and the measures (`measures`), all on
the same payment times: payment k is received (30k + delay days)/360 years
after settlement on the first day of the first projected month.

Class measures use what the class is paid (interest and principal, in
cents) priced per 100 of its balance at settlement. With neither a price
nor a yield given, classes are priced at par. A class with no balance at
settlement, or one paid nothing, has no measures.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.domain import measures
from analytics.domain.cents import paid_months, to_cents
from analytics.domain.collateral import Repline, project_repline
from analytics.domain.defaults import NO_DEFAULTS, DefaultScenario
from analytics.domain.prepayment import PrepaymentScenario
from analytics.domain.structure import Structure, StructuredMonth, run_structure

PAR = 100.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Deal:
    """What is projected: the collateral's replines and the classes' structure."""

    replines: tuple[Repline, ...]
    structure: Structure


@dataclass(frozen=True, slots=True, kw_only=True)
class Pricing:
    """How classes are priced: the actual payment delay and a price (per 100 of face) or a yield (percent)."""

    delay_days: int = 0
    price: float | None = None
    yield_percent: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassMeasures:
    wal_years: float | None
    final_period: int | None
    yield_percent: float | None
    price: float | None
    modified_duration: float | None
    convexity: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DealProjection:
    """A deal projected under one scenario: its months, and each class's measures (WAL, price, yield...)."""

    months: tuple[StructuredMonth, ...]
    class_names: tuple[str, ...]
    collateral_wal_years: float | None
    classes: dict[str, ClassMeasures]


def project(deal: Deal, prepayment: PrepaymentScenario, defaults: DefaultScenario = NO_DEFAULTS,
            pricing: Pricing = Pricing()) -> DealProjection:
    """Project the deal month by month to the end of its collateral and measure every class."""
    paid = {
        r.name: paid_months(project_repline(r, prepayment, defaults), balance_cents=to_cents(r.balance),
                            gross_wac=r.gross_wac, name=r.name)
        for r in deal.replines
    }
    months = tuple(_trimmed(run_structure(paid, deal.structure)))
    names = tuple(c.name for c in deal.structure.classes)
    times = measures.payment_times(len(months), delay_days=pricing.delay_days)
    collateral_principal = [m.total("principal_cents") / 100.0 for m in months]
    return DealProjection(
        months=months, class_names=names,
        collateral_wal_years=measures.average_life(collateral_principal, times),
        classes={name: class_measures(months, name, times, pricing) for name in names},
    )


def class_measures(months: Sequence[StructuredMonth], name: str, times: Sequence[float],
                   pricing: Pricing) -> ClassMeasures:
    """WAL, final period, price and yield, modified duration and convexity of one class."""
    results = [m.waterfall.for_class(name) for m in months]
    principal = [r.principal_paid_cents / 100.0 for r in results]
    flows = [(r.interest_paid_cents + r.principal_paid_cents) / 100.0 for r in results]
    balance = results[0].balance_begin_cents / 100.0 if results else 0.0
    wal, final = measures.average_life(principal, times), measures.final_period(principal)
    if balance <= 0 or not any(cf > 0 for cf in flows):
        return ClassMeasures(wal_years=wal, final_period=final, yield_percent=None, price=None,
                             modified_duration=None, convexity=None)
    try:
        price, yielded = _price_and_yield(flows, times, balance, pricing)
    except measures.MeasureError:
        if pricing.price is not None or pricing.yield_percent is not None:
            raise  # the caller's own price cannot be met: say so
        # Priced at par by default only: a class that loses so much that no yield reaches par
        # has no par yield, which is a fact to show (null), not a failed projection.
        return ClassMeasures(wal_years=wal, final_period=final, yield_percent=None, price=None,
                             modified_duration=None, convexity=None)
    return ClassMeasures(
        wal_years=wal, final_period=final, yield_percent=yielded, price=price,
        modified_duration=measures.modified_duration(flows, times, yielded),
        convexity=measures.convexity(flows, times, yielded),
    )


def _price_and_yield(flows: Sequence[float], times: Sequence[float], balance: float,
                     pricing: Pricing) -> tuple[float, float]:
    if pricing.yield_percent is not None:
        return measures.price_from_yield(flows, times, pricing.yield_percent, balance), pricing.yield_percent
    price = PAR if pricing.price is None else pricing.price
    return price, measures.yield_from_price(flows, times, price, balance)


def _trimmed(months: list[StructuredMonth]) -> list[StructuredMonth]:
    """Drop the months after the collateral's last cent (replines that ran out early leave none behind)."""
    while months and months[-1].total("balance_begin_cents") == 0:
        months.pop()
    return months
