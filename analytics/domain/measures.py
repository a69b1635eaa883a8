"""Yield and yield-related measures (SIFMA standard formulas, chapter SF, section G.1).

Every measure is on a semiannual-compounding (bond-equivalent) basis and a
30/360 calendar. Payment k of a projection (k = 1, 2, ...) is received

    T(k) = (30 k + delay) / 360 years

after settlement on the first day of the first accrual month, delay being the
actual payment delay in days (E.2: 14 for Ginnie Mae I, 24 for Fannie Mae).
Settling `days_after_start` days into that month shortens every T(k) by as
many days (the standard's second example settles 7 days after issue).

    price       P = sum CF(k) / (1 + Y/200)^(2 T(k))
    average life    sum T(k) PR(k) / sum PR(k)
    Macaulay duration (1/P) sum T(k) CF(k) / (1 + Y/200)^(2 T(k))
    modified duration Macaulay / (1 + Y/200)
    cash-flow convexity (1/P) (1 + Y/200)^-2 sum T(k) (T(k) + 1/2) CF(k) / (1 + Y/200)^(2 T(k))

Prices are per 100 of the balance at settlement (including accrued
interest, which is zero when settling on the first day of the month); yields
are percentages. Pure functions over floats.
"""
from __future__ import annotations

from collections.abc import Sequence

from analytics.domain.bisection import solve_falling

DAYS_IN_MONTH = 30
DAYS_IN_YEAR = 360
_YIELD_LOW, _YIELD_HIGH = -99.0, 1_000.0


class MeasureError(ValueError):
    """A measure cannot be computed from these cash flows (say, no cash flow at all)."""


def payment_times(count: int, *, delay_days: int = 0, days_after_start: int = 0) -> list[float]:
    """T(1..count) in years: payment k is received 30k + delay days after the start of the first month."""
    return [(DAYS_IN_MONTH * k + delay_days - days_after_start) / DAYS_IN_YEAR for k in range(1, count + 1)]


def average_life(principal: Sequence[float], times: Sequence[float]) -> float | None:
    """The principal-weighted average time to receipt, in years; None when no principal is paid."""
    total = sum(principal)
    if total <= 0:
        return None
    return sum(t * p for t, p in zip(times, principal)) / total


def final_period(principal: Sequence[float]) -> int | None:
    """The last period (1-based) in which principal is paid; None when none is."""
    paid = [k for k, p in enumerate(principal, start=1) if p > 0]
    return paid[-1] if paid else None


def present_value(flows: Sequence[float], times: Sequence[float], yield_percent: float) -> float:
    """The value of the cash flows at a bond-equivalent yield: sum CF / (1 + Y/200)^(2T)."""
    base = 1.0 + yield_percent / 200.0
    return sum(cf * base ** (-2.0 * t) for cf, t in zip(flows, times))


def price_from_yield(flows: Sequence[float], times: Sequence[float], yield_percent: float,
                     balance: float) -> float:
    """The price per 100 of `balance` that yields `yield_percent` on the cash flows."""
    _require_balance(balance)
    return 100.0 * present_value(flows, times, yield_percent) / balance


def yield_from_price(flows: Sequence[float], times: Sequence[float], price: float, balance: float) -> float:
    """The bond-equivalent yield (percent) at which the cash flows are worth `price` per 100 of `balance`.

    The value falls as the yield rises (for cash flows that are not
    negative), so bisection finds the one root; it is carried to the
    limits of double precision.
    """
    _require_balance(balance)
    if price <= 0:
        raise MeasureError("the price must be positive")
    if not any(cf > 0 for cf in flows):
        raise MeasureError("no cash flow to price")
    solved = solve_falling(lambda y: present_value(flows, times, y), price * balance / 100.0,
                           _YIELD_LOW, _YIELD_HIGH, tolerance=1e-13)
    if solved is None:
        raise MeasureError(f"no yield between {_YIELD_LOW}% and {_YIELD_HIGH}% gives a price of {price}")
    return solved


def macaulay_duration(flows: Sequence[float], times: Sequence[float], yield_percent: float) -> float:
    """The present-value-weighted average time to receipt, in years."""
    base = 1.0 + yield_percent / 200.0
    value = present_value(flows, times, yield_percent)
    return sum(t * cf * base ** (-2.0 * t) for cf, t in zip(flows, times)) / value


def modified_duration(flows: Sequence[float], times: Sequence[float], yield_percent: float) -> float:
    """Macaulay duration over the semiannual compounding factor (G.1 e)."""
    return macaulay_duration(flows, times, yield_percent) / (1.0 + yield_percent / 200.0)


def convexity(flows: Sequence[float], times: Sequence[float], yield_percent: float) -> float:
    """Cash-flow convexity in years squared (G.1 f); divide by 100 for the other way of quoting it."""
    base = 1.0 + yield_percent / 200.0
    value = present_value(flows, times, yield_percent)
    weighted = sum(t * (t + 0.5) * cf * base ** (-2.0 * t) for cf, t in zip(flows, times))
    return weighted / (value * base ** 2)


def mortgage_yield(bond_equivalent_yield: float) -> float:
    """The same yield compounded monthly (G.1 b): 1200 [(1 + Y/200)^(1/6) - 1]."""
    return 1200.0 * ((1.0 + bond_equivalent_yield / 200.0) ** (1.0 / 6.0) - 1.0)


def effective_duration_convexity(*, price: float, price_up: float, price_down: float,
                                 shift: float) -> tuple[float, float]:
    """Effective duration and convexity from prices at a yield `shift` (percent) up and down (G.1 g).

    They solve P(+-shift) = P0 [1 - D (+-shift)/100 + C/2 (shift/100)^2], with
    prices from a model whose cash flows move with rates (so unlike the
    cash-flow measures above, not from one fixed projection).
    """
    step = shift / 100.0
    duration = (price_down - price_up) / (2.0 * price * step)
    curvature = (price_up + price_down - 2.0 * price) / (price * step ** 2)
    return duration, curvature


def terminal_value(*, sale_price: float, factor: float, flows: Sequence[float], times: Sequence[float],
                   horizon: float, reinvestment_percent: float) -> float:
    """PT: the sale proceeds plus every cash flow received by `horizon` years, reinvested at R (G.1 h)."""
    base = 1.0 + reinvestment_percent / 200.0
    return sale_price * factor + sum(cf * base ** (2.0 * (horizon - t)) for cf, t in zip(flows, times))


def total_rate_of_return(*, initial: float, terminal: float, horizon: float) -> float:
    """The bond-equivalent total rate of return, percent: 200 [(PT/P0)^(1/2T) - 1]."""
    return 200.0 * ((terminal / initial) ** (1.0 / (2.0 * horizon)) - 1.0)


def _require_balance(balance: float) -> None:
    if balance <= 0:
        raise MeasureError("a price needs a positive balance at settlement")
