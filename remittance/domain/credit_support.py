"""A deal's credit support for one period: its triggers tested and its over-collateralisation target (pure).

The waterfall (remittance.domain.waterfall) calls these once a period, before any step runs:
- `trigger_status`: the cumulative-loss and 60+/90+ delinquency tests of trusts.domain.deal_structure.Triggers.
  Percents are reported as Decimals, but every pass/fail is decided exactly on integers (a figure x 100
  against a limit x its base, as Fractions), never on a rounded quotient;
- `oc_target_cents`: the over-collateralisation target of trusts.domain.deal_structure.Overcollateralization,
  floored to the cent (a target a fraction of a cent lower never asks for a cent the deal does not need).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from trusts.domain.deal_structure import Overcollateralization, Triggers
from trusts.domain.principal_rules import PRO_RATA, SEQUENTIAL


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerStatus:
    """The deal's triggers as tested this period, and the principal rule they chose.

    Percents are exact Decimals (figures over the cut-off or current pool balance x 100); a limit of
    None is a test the deal does not have. failed: a test failed this period; in_effect: principal
    runs as if failed (this period, or a sticky earlier failure). principal_rule: "sequential" before
    the step-down or in effect, else "pro-rata".
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


def _percent(figure_cents: int, base_cents: int) -> Fraction:
    """figure / base x 100 exactly; a base of zero has nothing to measure against, so 0."""
    return Fraction(figure_cents * 100, base_cents) if base_cents > 0 else Fraction(0)


def _as_decimal(value: Fraction) -> Decimal:
    # For the report only (28 significant digits); the tests compare the Fraction itself.
    return Decimal(value.numerator) / Decimal(value.denominator)


def _fails(percent: Fraction, limit: Decimal | None) -> bool:
    return limit is not None and percent > Fraction(limit)


def trigger_status(triggers: Triggers, *, period_number: int, cutoff_balance_cents: int,
                   cumulative_loss_cents: int, pool_balance_end_cents: int, delinquent_60_cents: int,
                   delinquent_90_cents: int, failed_before: bool) -> TriggerStatus:
    """The triggers tested for period `period_number`.

    cumulative_loss_cents: realized losses to date, this period's included (against the cut-off balance);
    delinquent_60/90_cents: the pool's 60+/90+ delinquent balance at the period's end (against the pool's
    balance then). failed_before: a sticky trigger failed in an earlier period.
    """
    loss = _percent(cumulative_loss_cents, cutoff_balance_cents)
    d60 = _percent(delinquent_60_cents, pool_balance_end_cents)
    d90 = _percent(delinquent_90_cents, pool_balance_end_cents)
    loss_limit = triggers.loss_limit(period_number)
    failed = (_fails(loss, loss_limit) or _fails(d60, triggers.delinquency_60_percent)
              or _fails(d90, triggers.delinquency_90_percent))
    in_effect = failed or (triggers.sticky and failed_before)
    stepdown_reached = period_number >= triggers.stepdown_period
    return TriggerStatus(
        stepdown_reached=stepdown_reached,
        cumulative_loss_percent=_as_decimal(loss), cumulative_loss_limit=loss_limit,
        delinquency_60_percent=_as_decimal(d60), delinquency_60_limit=triggers.delinquency_60_percent,
        delinquency_90_percent=_as_decimal(d90), delinquency_90_limit=triggers.delinquency_90_percent,
        failed=failed, in_effect=in_effect,
        principal_rule=PRO_RATA if stepdown_reached and not in_effect else SEQUENTIAL,
    )


def _share_cents(base_cents: int, percent: Decimal) -> int:
    """percent of base, floored to the cent (exact: Decimal -> Fraction)."""
    share = Fraction(base_cents) * Fraction(percent) / 100
    return share.numerator // share.denominator


def oc_target_cents(oc: Overcollateralization, *, status: TriggerStatus | None, cutoff_balance_cents: int,
                    pool_balance_end_cents: int) -> int:
    """The period's over-collateralisation target, in cents (floored).

    Before the step-down, with a trigger in effect, or in a deal without triggers: target_percent of the
    cut-off balance. After it, every trigger passing: stepdown_target_percent of the pool's balance at the
    period's end, never below floor_percent of the cut-off balance nor above the first target.
    """
    first = _share_cents(cutoff_balance_cents, oc.target_percent)
    if status is None or not status.stepdown_reached or status.in_effect:
        return first
    stepped = max(_share_cents(pool_balance_end_cents, oc.stepdown_target_percent),
                  _share_cents(cutoff_balance_cents, oc.floor_percent))
    return min(first, stepped)
