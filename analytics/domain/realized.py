"""Realized prepayment speeds: the SMM, CPR and PSA a pool actually experienced (SF-5 to SF-12).

One month (B.2 a): had nothing prepaid, the pool factor would have fallen
from F1 to the scheduled factor Fsched = F1 x BAL2/BAL1; what fell below it
prepaid, so

    SMM = 100 (Fsched - F2) / Fsched = 100 (1 - actual end / scheduled end).

Over several months or several pools (B.3), sum each pool's balance at the
end as if nothing had prepaid, and compare the actual sum with it:

    SMM avg = 100 [1 - (actual / scheduled)^(1/months)]
    CPR avg = 100 [1 - (actual / scheduled)^(12/months)]

PSA converts a one-month CPR with the month's loan age (SF-8); an average
PSA over months of different ages has no closed form and is found, as the
standard requires, by trying speeds until projecting each pool at that speed
gives the actual aggregate balance.

The standard's prepayments here are every unscheduled reduction of the balance:
curtailments, payoffs, repurchases and liquidations alike; the voluntary rates
and the default rates apart (section C.3) are remittance.domain.speeds'
`period_split` and `window_split`, which the remittance report and the speeds
endpoint state beside these. A month in which borrowers paid less
than scheduled gives a negative rate, which the standard says to read with
caution rather than hide.

The one-month formulas (`Speeds`, `speeds_from_balances`) and the rate
conversions are remittance.domain.speeds', since the remittance report shows a
closed period's realized speeds; they are re-exported here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.domain.bisection import solve_falling
from analytics.domain.collateral import amortized_balance
from remittance.domain.speeds import Speeds, cpr_to_smm, psa_cpr, speeds_from_balances

__all__ = ["PoolHistory", "Speeds", "average_psa", "average_speeds", "balance_ratio", "one_month_speeds",
           "scheduled_factor", "speeds_from_balances"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolHistory:
    """A pool over a historical period: its balance at start and end, coupon, remaining term and loan age at start."""

    balance_begin: float
    balance_end: float
    gross_wac: float
    remaining_term: int
    age: int


def scheduled_factor(factor_begin: float, bal_begin: float, bal_end: float) -> float:
    """Fsched: the factor at the end of the month had nothing prepaid (SF-5)."""
    return factor_begin * bal_end / bal_begin


def one_month_speeds(*, factor_begin: float, factor_end: float, bal_begin: float, bal_end: float,
                     loan_month: int) -> Speeds:
    """The standard's one-month calculation from two pool factors and two amortized balances (SF-7, SF-8)."""
    expected = scheduled_factor(factor_begin, bal_begin, bal_end)
    return speeds_from_balances(actual_end=factor_end, scheduled_end=expected, loan_month=loan_month)


def balance_ratio(gross_wac: float, remaining_before: int, remaining_after: int) -> float:
    """BAL2/BAL1 for a level-payment pool whose remaining term (WAM) went from one value to the other."""
    # BAL's denominator depends only on the original term, which cancels out of the ratio.
    term = max(remaining_before, remaining_after)
    return (amortized_balance(gross_wac, term, term - remaining_after)
            / amortized_balance(gross_wac, term, term - remaining_before))


def average_speeds(pools: Sequence[PoolHistory], months: int) -> Speeds:
    """SMM, CPR and PSA averaged over `months` months and several pools (B.3; PSA by iteration)."""
    actual = sum(p.balance_end for p in pools)
    scheduled = sum(p.balance_begin * balance_ratio(p.gross_wac, p.remaining_term, p.remaining_term - months)
                    for p in pools)
    averaged = speeds_from_balances(actual_end=actual, scheduled_end=scheduled, months=months)
    return Speeds(smm=averaged.smm, cpr=averaged.cpr, psa=average_psa(pools, months))


def average_psa(pools: Sequence[PoolHistory], months: int) -> float | None:
    """The PSA speed that, applied to each pool over the months, leaves the actual aggregate balance."""
    actual = sum(p.balance_end for p in pools)
    # None: faster than any PSA speed, or slower than none at all.
    return solve_falling(lambda psa: _projected(pools, months, psa), actual, 0.0, 100_000.0, tolerance=1e-10)


def _projected(pools: Sequence[PoolHistory], months: int, psa: float) -> float:
    """The pools' aggregate balance after `months` months at `psa` (amortizing, then prepaying, each month)."""
    total = 0.0
    for pool in pools:
        balance = pool.balance_begin
        for k in range(1, months + 1):
            ratio = balance_ratio(pool.gross_wac, pool.remaining_term - k + 1, pool.remaining_term - k)
            smm = cpr_to_smm(psa_cpr(psa, pool.age + k)) / 100.0
            balance *= ratio * (1.0 - smm)
        total += balance
    return total

