"""Prepayment rates as the SIFMA standard formulas define them (chapter SF, section B.2).

SMM (single monthly mortality) is the share of the loans outstanding at the
start of a month, after that month's scheduled amortization, that prepay in
the month. CPR is the same rate compounded to a year:

    (1 - SMM/100)^12 = 1 - CPR/100

PSA (the Standard Prepayment Model) gives a CPR for each month of the
underlying loans' life: 100% PSA is 0.2% CPR in month 1, 0.2% more each
month, and 6% CPR from month 30 on; other speeds scale that curve:

    CPR = min(PSA/100 * 0.2 * max(1, min(MONTH, 30)), 100)

MONTH is the month during which the loans' age goes from MONTH - 1 to MONTH,
so a pool of loans aged `age` months projects its first month as age + 1.

Rates here are percentages (SMM 0.5 is half a percent a month), as the
standard writes them; `monthly_smm` turns a scenario into the fractions the
projection multiplies balances by.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

# The rate conversions live with the realized speeds the remittance report shows (one implementation).
from remittance.domain.speeds import (  # noqa: F401
    PSA_RAMP_MONTHS,
    PSA_STEP_CPR,
    cpr_to_smm,
    psa_cpr,
    psa_from_cpr,
    smm_to_cpr,
)

PrepaymentKind = Literal["smm", "cpr", "psa"]
PREPAYMENT_KINDS: tuple[str, ...] = ("smm", "cpr", "psa")


def check_scenario_rates(what: str, kind: str, kinds: tuple[str, ...], rates: tuple[float, ...],
                         percent_kinds: tuple[str, ...]) -> None:
    """The one rule for a scenario's rates, prepayment or default (analytics.domain.defaults): a known
    kind, at least one rate, none negative, and a percentage (not a speed) at most 100."""
    if kind not in kinds:
        raise ValueError(f"{what} kind must be one of {kinds}, not {kind!r}")
    if not rates:
        raise ValueError(f"a {what} scenario needs at least one rate")
    if any(rate < 0 for rate in rates):
        raise ValueError(f"{what} rates cannot be negative")
    if kind in percent_kinds and any(rate > 100 for rate in rates):
        raise ValueError(f"{kind.upper()} cannot exceed 100%")


def rate_of_month(rates: tuple[float, ...], projected_month: int) -> float:
    """A scenario's rate for projected month 1, 2, ...: a vector's last rate holds for every later month."""
    return rates[min(projected_month, len(rates)) - 1]


def monthly_percent(rate: float, kind: str, loan_month: int, *, monthly_kind: str, annual_kind: str,
                    curve: Callable[[float, int], float]) -> float:
    """A scenario's rate as a monthly percentage, prepayment (SMM, CPR, PSA) or default (MDR, CDR, SDA)
    alike: a monthly rate as it is, an annual one de-compounded, a speed read off its curve's annual
    rate for the loan's month first."""
    if kind == monthly_kind:
        return rate
    return cpr_to_smm(rate if kind == annual_kind else curve(rate, loan_month))


@dataclass(frozen=True, slots=True)
class PrepaymentScenario:
    """A prepayment assumption: one kind, and one rate or a month-by-month vector of rates.

    A vector gives projected months 1, 2, ... in order; its last rate holds
    for every later month. PSA values are speeds (150 is 150% PSA), SMM and
    CPR values percentages.
    """

    kind: PrepaymentKind
    rates: tuple[float, ...]

    def __post_init__(self) -> None:
        check_scenario_rates("prepayment", self.kind, PREPAYMENT_KINDS, self.rates, percent_kinds=("smm", "cpr"))

    def rate_for(self, projected_month: int) -> float:
        """The scenario's own rate (percent or PSA speed) for projected month 1, 2, ..."""
        return rate_of_month(self.rates, projected_month)


def monthly_smm(scenario: PrepaymentScenario, *, age: int, months: int, start: int = 1) -> list[float]:
    """The SMM (a fraction, not a percent) for `months` months of loans aged `age` at the first of them.

    start is the projected month the first of them is (a vector is read from
    there), so loans that start paying later still use the scenario's calendar.
    """
    return [_smm_percent(scenario, start + k, age + k + 1) / 100.0 for k in range(months)]


def _smm_percent(scenario: PrepaymentScenario, projected_month: int, loan_month: int) -> float:
    return monthly_percent(scenario.rate_for(projected_month), scenario.kind, loan_month,
                           monthly_kind="smm", annual_kind="cpr", curve=psa_cpr)


def constant(kind: PrepaymentKind, rate: float) -> PrepaymentScenario:
    """A scenario with one rate for every month."""
    return PrepaymentScenario(kind=kind, rates=(float(rate),))


def vector(kind: PrepaymentKind, rates: Sequence[float]) -> PrepaymentScenario:
    """A scenario with a rate for each projected month (the last one holds after)."""
    return PrepaymentScenario(kind=kind, rates=tuple(float(r) for r in rates))
