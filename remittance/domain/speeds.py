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

Voluntary and involuntary (SIFMA SF, C.3): the total rate above counts every unscheduled reduction,
liquidations included, so a month with a large liquidation and no voluntary prepayment shows a high CPR.
`period_split` separates them, on the balance left after the month's scheduled amortization (SCHED):
- defaults: the balance of the loans liquidated in the month, DEF = principal recovered + loss;
  MDR = 100 DEF / SCHED, CDR = 100 [1 - (1 - MDR/100)^12];
- voluntary prepayments (curtailments and payoffs), VOL, on what survived default:
  SMM = 100 VOL / (SCHED - DEF), CPR and PSA from it as above (defaults happen first, then prepayments,
  the order of the standard's projections with defaults);
- severity = 100 loss / DEF, None in a month without a default.
Repurchases (loans bought out of the pool at par) are neither voluntary nor defaults: they stay in the
total rate only. Over several months (3, 6, 12, life: `window_split`) each rate is the geometric mean of
the months' survival factors, 1 - prod(1 - rate)^(1/months), and severity is the window's loss over its
defaults; PSA is stated for one month only.

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


# ------------------------------------------------------------------ voluntary and involuntary (pure)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthActivity:
    """What a pool's month did besides its schedule, in cents: the inputs of `period_split`.

    scheduled_end: the balance had nothing but the schedule been paid (SCHED); voluntary: curtailments and
    payoffs; defaulted: principal recovered plus loss on the loans liquidated; loss: the realized loss.
    """

    scheduled_end_cents: int
    voluntary_cents: int
    defaulted_cents: int
    loss_cents: int


@dataclass(frozen=True, slots=True)
class SplitSpeeds:
    """Voluntary prepayment and default rates, in percent; psa and severity None when they cannot be stated."""

    smm: float
    cpr: float
    psa: float | None
    mdr: float
    cdr: float
    severity: float | None


def period_split(month: MonthActivity, *, loan_month: int | None = None) -> SplitSpeeds:
    """One month's voluntary SMM/CPR/PSA (liquidations excluded), MDR/CDR and loss severity."""
    mdr = _rate(month.defaulted_cents, month.scheduled_end_cents)
    smm = _rate(month.voluntary_cents, month.scheduled_end_cents - month.defaulted_cents)
    cpr = smm_to_cpr(smm)
    return SplitSpeeds(smm=smm, cpr=cpr, psa=None if loan_month is None else psa_from_cpr(cpr, loan_month),
                       mdr=mdr, cdr=smm_to_cpr(mdr), severity=_severity(month.loss_cents, month.defaulted_cents))


def window_split(months: list[MonthActivity]) -> SplitSpeeds | None:
    """The rates over consecutive months (geometric mean of the monthly survivals); None for no month."""
    if not months:
        return None
    monthly = [period_split(m) for m in months]
    smm = _mean_rate([s.smm for s in monthly])
    mdr = _mean_rate([s.mdr for s in monthly])
    return SplitSpeeds(smm=smm, cpr=smm_to_cpr(smm), psa=None, mdr=mdr, cdr=smm_to_cpr(mdr),
                       severity=_severity(sum(m.loss_cents for m in months),
                                          sum(m.defaulted_cents for m in months)))


def _rate(part: int, base: int) -> float:
    # Nothing left to prepay or default: the rate is zero, as `speeds_from_balances` says of a pool paid down.
    return 100.0 * part / base if base > 0 else 0.0


def _mean_rate(rates: list[float]) -> float:
    survival = 1.0
    for rate in rates:
        survival *= 1.0 - rate / 100.0
    return 100.0 * (1.0 - _root(survival, 1.0 / len(rates)))


def _severity(loss: int, defaulted: int) -> float | None:
    return 100.0 * loss / defaulted if defaulted else None
