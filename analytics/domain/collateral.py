"""The collateral projection: a pool's monthly cash flows by the SIFMA standard formulas (SF-4, SF-18, SF-19).

Pure and in full floating-point precision (the standard asks for at least
ten significant digits and rounding only for display, SF-3). Money is in
dollars here; `analytics.domain.cents` turns it into the cents that get paid.

A pool is projected as one or more replines: loans that amortize alike (one
line per loan for a trust, one line for the command's pool options).

Amortization (B.1). The scheduled balance path SCH(k), as a fraction of the
balance at the start, is the level-payment schedule: the standard's
amortized loan balance BAL = (1 - (1 + C/1200)^-M) / (1 - (1 + C/1200)^-M0)
when only the coupon C, original term M0 and age are known, or the balance
the loan's own contractual payment leaves when it is known. The surviving
balance is re-amortized every month: whatever prepaid or defaulted, the
loans still performing pay SCH(k)/SCH(k-1) of their balance forward, as the
standard's survival factor has it.

The month, in the standard's order (C.2 c and e, C.3):
1. New defaults: MDR x the performing balance at the end of the prior month,
   before this month's amortization.
2. Amortization: the loans that did not default pay their scheduled
   principal, PERF x (1 - SCH(i)/SCH(i-1)) after the new defaults.
3. Voluntary prepayments: SMM x the prior performing balance after its
   scheduled amortization, PERF x SCH(i)/SCH(i-1) x SMM, capped so that the
   month cannot take more than the performing balance.
4. Liquidations: the defaults of `lag` months ago leave foreclosure; with P&I
   advanced their balance has amortized on schedule meanwhile (the advanced
   principal was paid to investors), without advancing it has not. The loss
   is severity x the balance at default, at most that balance; the rest is
   recovered principal.
Interest is due on every loan still in the pool (performing or in
foreclosure); loans that defaulted, this month or earlier, pay none unless
the servicer advances it. The servicing and guarantee fee is the balance
earning interest x (gross - net) / 1200, so investors get the net rate.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from analytics.domain.defaults import NO_DEFAULTS, DefaultScenario, monthly_mdr
from analytics.domain.prepayment import PrepaymentScenario, monthly_smm


@dataclass(frozen=True, slots=True, kw_only=True)
class Repline:
    """Loans that amortize alike: their balance (dollars), rates, term and age.

    gross_wac is their weighted average note rate and net_wac what their investors earn (gross less
    the servicing fee), both annual percents; a repline of one loan (a trust's) has its note rate as
    gross WAC.

    payment, when known (a trust's loan), is the contractual level P&I in
    dollars and drives the schedule; otherwise the standard's BAL formula
    does. lead is the number of projected months before the first
    installment falls due (nothing is paid or prepaid before it).
    """

    name: str
    balance: float
    gross_wac: Decimal
    net_wac: Decimal
    term: int
    age: int
    payment: float | None = None
    lead: int = 0

    @property
    def remaining_term(self) -> int:
        return self.term - self.age


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardMonth:
    """One projected month of one repline, with the standard's quantities (C.3's names in comments)."""

    period: int
    smm: float                      # SMM(i), a fraction
    mdr: float                      # MDR(i), a fraction
    advanced: bool
    performing_begin: float         # PERF BAL(i-1)
    foreclosure_begin: float        # FCL(i-1)
    new_defaults: float             # NEW DEF(i)
    liquidated: float               # ADB(i): balance leaving foreclosure this month
    expected_amortization: float    # EXP AM(i)
    voluntary_prepayments: float    # VOL PREPAY(i)
    prepayment_base: float          # PERF BAL(i-1) x SCH(i)/SCH(i-1): the balance SMM applies to
    amortization_from_defaults: float  # AM DEF(i)
    actual_amortization: float      # ACT AM(i)
    expected_interest: float        # EXP INT(i), at the net rate
    interest_lost: float            # LOST INT(i)
    actual_interest: float          # ACT INT(i)
    gross_interest: float           # interest the servicer collects (or advances) at the gross rate
    servicing_fee: float            # the servicing and guarantee fee on the balance earning interest
    principal_recovery: float       # PRIN RECOV(i)
    principal_loss: float           # PRIN LOSS(i)
    performing_end: float           # PERF BAL(i)
    foreclosure_end: float          # FCL(i)

    @property
    def balance_begin(self) -> float:
        return self.performing_begin + self.foreclosure_begin

    @property
    def balance_end(self) -> float:
        return self.performing_end + self.foreclosure_end

    @property
    def scheduled_principal(self) -> float:
        """Scheduled principal the investors receive: advanced for defaulted loans, or only what was paid."""
        return self.expected_amortization if self.advanced else self.actual_amortization

    @property
    def interest_bearing_balance(self) -> float:
        """The balance whose interest reaches the investors this month."""
        return self.balance_begin if self.advanced else self.performing_begin - self.new_defaults

    @property
    def net_interest(self) -> float:
        return self.expected_interest if self.advanced else self.actual_interest

    @property
    def principal(self) -> float:
        return self.scheduled_principal + self.voluntary_prepayments + self.principal_recovery

    @property
    def cash_flow(self) -> float:
        return self.principal + self.net_interest


# ------------------------------------------------------------ amortization


def amortized_balance(coupon: float, original_term: int, age: int) -> float:
    """BAL: the scheduled balance of a level-payment loan after `age` months, as a fraction of par (B.1)."""
    if age >= original_term:
        return 0.0
    if coupon == 0:
        return (original_term - age) / original_term
    c = coupon / 1200.0
    return (1.0 - (1.0 + c) ** -(original_term - age)) / (1.0 - (1.0 + c) ** -original_term)


def scheduled_path(repline: Repline) -> list[float]:
    """SCH(0..n): the repline's scheduled balance as a fraction of today's, to the month it reaches zero."""
    if repline.balance <= 0 or repline.remaining_term <= 0:
        return [1.0]
    coupon = float(repline.gross_wac)
    if repline.payment is None:
        start = amortized_balance(coupon, repline.term, repline.age)
        return [amortized_balance(coupon, repline.term, repline.age + k) / start
                for k in range(repline.remaining_term + 1)]
    return _payment_path(coupon / 1200.0, repline.payment / repline.balance, repline.remaining_term)


def _payment_path(c: float, payment: float, months: int) -> list[float]:
    path = [1.0]
    for k in range(1, months + 1):
        grown = (1.0 + c) ** k
        left = grown - payment * (grown - 1.0) / c if c else 1.0 - payment * k
        # The last installment clears whatever is left, as the servicing's schedule does.
        if left <= 1e-12 or k == months:
            path.append(0.0)
            break
        path.append(left)
    return path


# ------------------------------------------------------------- projection


def project_repline(repline: Repline, prepayment: PrepaymentScenario,
                    defaults: DefaultScenario = NO_DEFAULTS) -> list[StandardMonth]:
    """The repline's months, `lead` idle months first, then one a month until its balance is gone."""
    path = scheduled_path(repline)
    months = len(path) - 1
    smm = monthly_smm(prepayment, age=repline.age, months=months, start=repline.lead + 1)
    mdr = monthly_mdr(defaults, age=repline.age, months=months, remaining_term=months, start=repline.lead + 1)
    idle = [_idle_month(k, repline, defaults.advance) for k in range(1, repline.lead + 1)]
    active = run_standard(balance=repline.balance, path=path, smm=smm, mdr=mdr, defaults=defaults,
                          gross_wac=float(repline.gross_wac), net_wac=float(repline.net_wac))
    return idle + [_renumbered(m, repline.lead) for m in active]


def run_standard(*, balance: float, path: Sequence[float], smm: Sequence[float], mdr: Sequence[float],
                 defaults: DefaultScenario, gross_wac: float, net_wac: float) -> list[StandardMonth]:
    """The standard formulas of C.3, month by month, over a scheduled path (SF-18, SF-19)."""
    performing, foreclosure = balance, 0.0
    new_defaults: list[float] = []
    months = []
    for i in range(1, len(path)):
        ratio = path[i] / path[i - 1] if path[i - 1] else 0.0
        defaulted = performing * mdr[i - 1]
        new_defaults.append(defaulted)
        liquidated, loss = _liquidation(i, new_defaults, path, defaults)
        # In the month the schedule pays the pool off nothing is left to prepay; the rate shows as zero (SF-30).
        month = _month(
            _Opening(period=i, performing=performing, foreclosure=foreclosure, ratio=ratio,
                     smm=smm[i - 1] if ratio else 0.0, mdr=mdr[i - 1]),
            defaulted=defaulted, liquidated=liquidated, loss=loss, advance=defaults.advance,
            gross_wac=gross_wac, net_wac=net_wac,
        )
        months.append(month)
        performing, foreclosure = month.performing_end, month.foreclosure_end
    return months


@dataclass(frozen=True, slots=True, kw_only=True)
class _Opening:
    """A month as it opens: the prior month's balances, the schedule's step and the month's rates."""

    period: int
    performing: float
    foreclosure: float
    ratio: float  # SCH(i) / SCH(i-1)
    smm: float
    mdr: float


def _liquidation(i: int, new_defaults: list[float], path: Sequence[float],
                 defaults: DefaultScenario) -> tuple[float, float]:
    """ADB(i) and PRIN LOSS(i): the defaults of `lag` months ago, amortized on schedule if P&I were advanced."""
    lag = defaults.lag
    if i <= lag:
        return 0.0, 0.0
    defaulted = new_defaults[i - 1 - lag]
    if defaults.advance and path[i - 1 - lag]:
        liquidated = defaulted * path[i - 1] / path[i - 1 - lag]
    else:
        liquidated = defaulted
    return liquidated, min(defaulted * defaults.severity / 100.0, liquidated)


def _month(o: _Opening, *, defaulted: float, liquidated: float, loss: float, advance: bool, gross_wac: float,
           net_wac: float) -> StandardMonth:
    """EXP AM, AM DEF, ACT AM, VOL PREPAY and the interest of one month, in C.3's formulas."""
    amortizing = 1.0 - o.ratio
    actual_am = (o.performing - defaulted) * amortizing
    # C.2 e: prepayments cannot take more than what is left of the performing balance.
    prepaid = min(o.performing * o.ratio * o.smm, o.performing - defaulted - actual_am)
    am_from_defaults = (defaulted + o.foreclosure - liquidated) * amortizing if advance else 0.0
    bearing = o.performing + o.foreclosure if advance else o.performing - defaulted
    net = net_wac / 1200.0
    return StandardMonth(
        period=o.period, smm=o.smm, mdr=o.mdr, advanced=advance,
        performing_begin=o.performing, foreclosure_begin=o.foreclosure, new_defaults=defaulted,
        liquidated=liquidated, expected_amortization=(o.performing + o.foreclosure - liquidated) * amortizing,
        voluntary_prepayments=prepaid, prepayment_base=o.performing * o.ratio,
        amortization_from_defaults=am_from_defaults, actual_amortization=actual_am,
        expected_interest=(o.performing + o.foreclosure) * net, interest_lost=(defaulted + o.foreclosure) * net,
        actual_interest=(o.performing - defaulted) * net,
        gross_interest=bearing * gross_wac / 1200.0, servicing_fee=bearing * (gross_wac - net_wac) / 1200.0,
        principal_recovery=max(liquidated - loss, 0.0), principal_loss=loss,
        performing_end=o.performing - defaulted - prepaid - actual_am,
        foreclosure_end=defaulted + o.foreclosure - liquidated - am_from_defaults,
    )


def _idle_month(k: int, repline: Repline, advance: bool) -> StandardMonth:
    zero = 0.0
    return StandardMonth(
        period=k, smm=zero, mdr=zero, advanced=advance, performing_begin=repline.balance, foreclosure_begin=zero,
        new_defaults=zero, liquidated=zero, expected_amortization=zero, voluntary_prepayments=zero,
        prepayment_base=zero, amortization_from_defaults=zero, actual_amortization=zero, expected_interest=zero,
        interest_lost=zero, actual_interest=zero, gross_interest=zero, servicing_fee=zero, principal_recovery=zero,
        principal_loss=zero, performing_end=repline.balance, foreclosure_end=zero,
    )


def _renumbered(month: StandardMonth, lead: int) -> StandardMonth:
    return replace(month, period=month.period + lead) if lead else month
