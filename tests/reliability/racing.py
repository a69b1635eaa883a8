"""Real concurrent callers for the reliability tests: one thread and one database connection each.

`race` lines the contenders up on a threading.Barrier so they hit the service
at the same moment, and answers one Outcome per contender, in order: what the
service returned, or the refusal it raised. Anything that is not a refusal
(a crash, a deadlock, an IntegrityError) is no outcome at all: it is raised
to the test, which then fails.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connections

BARRIER_TIMEOUT = 120  # seconds: a contender that never arrives breaks the barrier instead of hanging the run


@dataclass(frozen=True)
class Outcome:
    """What one contender got: the service's answer, or its refusal."""

    argument: object
    value: object = None
    refusal: Exception | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None


def race(action: Callable[[object], object], arguments: Sequence, *, refusals: tuple[type[Exception], ...],
         jitter_seconds: float = 0.0, seed: int = 0) -> list[Outcome]:
    """Call `action(argument)` for every argument at once, each in its own thread and connection.

    jitter_seconds spreads the start after the barrier a little (seeded), so some
    contenders arrive while others are half-way through, not only all at once.
    """
    barrier = threading.Barrier(len(arguments))
    delays = [random.Random(seed * 1_000_003 + i).uniform(0, jitter_seconds) for i in range(len(arguments))]

    def contender(index: int) -> Outcome:
        argument = arguments[index]
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            if delays[index]:
                time.sleep(delays[index])
            return Outcome(argument, value=action(argument))
        except refusals as refused:
            return Outcome(argument, refusal=refused)
        finally:
            # Each thread opened its own connection; close it so the test database can be flushed.
            connections.close_all()

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(contender, range(len(arguments))))
