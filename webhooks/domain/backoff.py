"""When a failed delivery is tried again: exponential backoff with jitter, capped.

The n-th retry waits base * 2**(n-1) seconds, at most `cap`, then a random
part of it ("full jitter" on the upper half): many deliveries failing at once
(a portal down during a month-end) do not all come back at the same second.
"""
from __future__ import annotations

import random


def retry_delay(retry: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `retry` (1 for the first retry): between half and all of the backoff."""
    if retry < 1:
        raise ValueError(f"retry numbers start at 1, not {retry}")
    backoff = min(cap, base * float(2 ** (retry - 1)))
    draw = (rng or random.SystemRandom()).random()
    return backoff / 2 + draw * backoff / 2
