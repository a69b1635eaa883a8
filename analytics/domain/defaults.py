"""Default rates as the SIFMA standard formulas define them (chapter SF, section C).

MDR (monthly default rate) is the share of the performing balance at the end
of the prior month, before this month's scheduled amortization, that goes
into default this month. CDR is MDR compounded to a year, as CPR is to SMM:

    MDR = 100 * (1 - (1 - CDR/100)^(1/12))

SDA (the Standard Default Assumption, C.4) gives a CDR for each month of the
loans' life: at 100% SDA it rises 0.02% a month to a 0.60% peak in month 30,
stays there to month 60, falls 0.0095% a month from month 61 to a 0.03% tail
in month 120, and stays at the tail; other speeds scale the curve.

Whatever the rate, the standard sets it to zero for the last n months before
the pool's scheduled final maturity, n being the months to liquidation
(C.3 note j), so every default is liquidated before the pool matures.

The loss severity is the share of a defaulted loan's balance at default that
is lost when it is liquidated, `lag` months later; with servicer advancing,
scheduled principal and interest of defaulted loans keep being paid to the
investors until the liquidation.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from analytics.domain.prepayment import check_scenario_rates, monthly_percent, rate_of_month
from remittance.domain.speeds import cpr_to_smm

DefaultKind = Literal["mdr", "cdr", "sda"]
DEFAULT_KINDS: tuple[str, ...] = ("mdr", "cdr", "sda")

SDA_PEAK_CDR = 0.60
SDA_TAIL_CDR = 0.03
SDA_RAMP_STEP = 0.02
SDA_DECLINE_STEP = 0.0095
SDA_PEAK_START, SDA_PEAK_END, SDA_TAIL_START = 30, 60, 120


def cdr_to_mdr(cdr: float) -> float:
    """The monthly default rate (percent) equivalent to an annual CDR (percent)."""
    return cpr_to_smm(cdr)


def sda_cdr(sda: float, month: int) -> float:
    """The annual default rate (percent) that `sda` percent of the SDA curve assigns to loan month `month`."""
    if month <= SDA_PEAK_START:
        base = SDA_RAMP_STEP * max(month, 0)
    elif month <= SDA_PEAK_END:
        base = SDA_PEAK_CDR
    elif month <= SDA_TAIL_START:
        base = SDA_PEAK_CDR - SDA_DECLINE_STEP * (month - SDA_PEAK_END)
    else:
        base = SDA_TAIL_CDR
    return min(sda / 100.0 * base, 100.0)


@dataclass(frozen=True, slots=True)
class DefaultScenario:
    """A default assumption: its rates, the loss severity, the liquidation lag and whether P&I are advanced.

    rates: one rate, or one per projected month (the last one holds after);
    SDA values are speeds (100 is 100% SDA), MDR and CDR values percentages.
    severity is a percentage of the balance at default; lag in months from
    the first missed payment to liquidation (0: liquidated in that month).
    """

    kind: DefaultKind
    rates: tuple[float, ...]
    severity: float
    lag: int
    advance: bool

    def __post_init__(self) -> None:
        check_scenario_rates("default", self.kind, DEFAULT_KINDS, self.rates, percent_kinds=("mdr", "cdr"))
        if not 0 <= self.severity <= 100:
            raise ValueError("loss severity must be between 0 and 100 percent")
        if not isinstance(self.lag, int) or isinstance(self.lag, bool) or self.lag < 0:
            raise ValueError("the liquidation lag must be a whole number of months, zero or more")

    def rate_for(self, projected_month: int) -> float:
        return rate_of_month(self.rates, projected_month)


NO_DEFAULTS = DefaultScenario(kind="mdr", rates=(0.0,), severity=0.0, lag=0, advance=True)


def monthly_mdr(scenario: DefaultScenario, *, age: int, months: int, remaining_term: int,
                start: int = 1) -> list[float]:
    """The MDR (a fraction) for `months` months of loans aged `age`; zero in the last `lag` before maturity.

    start is the projected month the first of them is, as in `prepayment.monthly_smm`.
    """
    rates = []
    for k in range(1, months + 1):
        # C.3 note j: no new defaults that could not be liquidated before the pool matures.
        if k > remaining_term - scenario.lag:
            rates.append(0.0)
        else:
            rates.append(_mdr_percent(scenario, start + k - 1, age + k) / 100.0)
    return rates


def _mdr_percent(scenario: DefaultScenario, projected_month: int, loan_month: int) -> float:
    # MDR is to CDR what SMM is to CPR (cdr_to_mdr): one conversion for both.
    return monthly_percent(scenario.rate_for(projected_month), scenario.kind, loan_month,
                           monthly_kind="mdr", annual_kind="cdr", curve=sda_cdr)


def default_scenario(kind: DefaultKind, rates: Sequence[float], *, severity: float, lag: int,
                     advance: bool) -> DefaultScenario:
    return DefaultScenario(kind=kind, rates=tuple(float(r) for r in rates), severity=float(severity), lag=lag,
                           advance=advance)
