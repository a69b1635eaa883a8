"""Prepayment speeds (SIFMA standard formulas, chapter SF, B.2): the rate conversions, and the SMM, CPR
and PSA a pool realized, from its actual and its scheduled end balance.

Rates are percentages, as the standard writes them (SMM 0.5 is half a percent a month). SMM is the share
of the balance outstanding after the month's scheduled amortization that prepays in the month; CPR is the
same rate compounded to a year, (1 - SMM/100)^12 = 1 - CPR/100. The PSA model gives a CPR for each month
of the loans' life: 100% PSA is 0.2% CPR in month 1, 0.2% more each month, 6% from month 30 on; other
speeds scale that curve: CPR = min(PSA/100 * 0.2 * max(1, min(MONTH, 30)), 100).

Realized (B.2 a): had nothing prepaid, the balance would have fallen to the scheduled end balance; what
fell below it prepaid, so SMM = 100 (1 - actual end / scheduled end), and over `months` months
SMM = 100 [1 - (actual / scheduled)^(1/months)], CPR = 100 [1 - (actual / scheduled)^(12/months)]. A month
in which borrowers paid less than scheduled gives a negative rate, which the standard says to read with
caution rather than hide.

Pure: no database. `remittance.selectors.reports.period_speeds` reads a closed period's balances and computes its
speeds with these (the remittance report's "speeds" section); analytics (prepayment, realized,
selectors) imports them from here, so there is one implementation.
"""
from __future__ import annotations

from dataclasses import dataclass

PSA_RAMP_MONTHS = 30
PSA_STEP_CPR = 0.2  # percent CPR per month of age at 100% PSA
PERCENT_PLACES = 6  # how reports and the API write a speed: "0.512345"


# ------------------------------------------------------------------ conversions


def cpr_to_smm(cpr: float) -> float:
    """The monthly rate (percent) equivalent to an annual CPR (percent)."""
    return 100.0 * (1.0 - (1.0 - cpr / 100.0) ** (1.0 / 12.0))


def smm_to_cpr(smm: float) -> float:
    """The annual rate (percent) equivalent to a monthly SMM (percent)."""
    return 100.0 * (1.0 - (1.0 - smm / 100.0) ** 12)


def psa_cpr(psa: float, month: int) -> float:
    """The CPR (percent) that `psa` percent of the PSA model assigns to loan month `month`."""
    return min(psa / 100.0 * PSA_STEP_CPR * max(1, min(month, PSA_RAMP_MONTHS)), 100.0)


def psa_from_cpr(cpr: float, month: int) -> float:
    """The PSA speed (percent) whose CPR in loan month `month` is `cpr` (SF-8's last step)."""
    return 100.0 * cpr / (PSA_STEP_CPR * max(1, min(month, PSA_RAMP_MONTHS)))


def percent_text(value: float | None) -> str | None:
    """A speed as reports write it: percent with six decimals ("0.512345"); None stays None."""
    return None if value is None else f"{value:.{PERCENT_PLACES}f}"


# ------------------------------------------------------------------ realized speeds (pure)


@dataclass(frozen=True, slots=True)
class Speeds:
    """Prepayment rates in percent; psa is None when it cannot be stated (no loan age)."""

    smm: float
    cpr: float
    psa: float | None


def speeds_from_balances(*, actual_end: float, scheduled_end: float, months: int = 1,
                         loan_month: int | None = None) -> Speeds:
    """SMM, CPR (and PSA for one month of known loan age) from actual and scheduled end balances."""
    if scheduled_end <= 0:
        # Nothing was left to prepay: the whole scheduled balance is gone, as scheduled.
        return Speeds(smm=0.0, cpr=0.0, psa=0.0 if loan_month is not None else None)
    survived = actual_end / scheduled_end
    smm = 100.0 * (1.0 - _root(survived, 1.0 / months))
    cpr = 100.0 * (1.0 - _root(survived, 12.0 / months))
    psa = psa_from_cpr(cpr, loan_month) if loan_month is not None and months == 1 else None
    return Speeds(smm=smm, cpr=cpr, psa=psa)


def _root(value: float, power: float) -> float:
    # A negative survival (an actual balance below zero) cannot happen with real balances.
    return value ** power if value >= 0 else float("nan")
