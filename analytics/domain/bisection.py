"""One root finder for the measures that are solved backwards (yield from price, average PSA).

Both solve value(x) = target for a value that falls as x rises; bisection is
slow but cannot miss the one root, and needs no derivative.
"""
from __future__ import annotations

from collections.abc import Callable

MAX_STEPS = 200


def solve_falling(value: Callable[[float], float], target: float, low: float, high: float,
                  *, tolerance: float) -> float | None:
    """The x in [low, high] where the falling `value(x)` equals `target`, or None if it is not bracketed."""
    if not value(high) <= target <= value(low):
        return None
    for _ in range(MAX_STEPS):
        middle = (low + high) / 2.0
        if value(middle) > target:
            low = middle
        else:
            high = middle
        if high - low < tolerance:
            break
    return (low + high) / 2.0
