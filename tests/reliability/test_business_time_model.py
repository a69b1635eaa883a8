"""Business time under random sequences: a clock that advances, and commands whose dates are hostile.

A hypothesis state machine runs the back office on a business clock it moves forward a few days
at a time. Every command carries a date drawn around the interesting edges: tomorrow and later,
today, inside a period already closed, before boarding, on and around the trust's cut-off and a
loan's removal. A reference model (the rules in words, nothing read from the read models) says
for each command whether the books must take it or refuse it, and with which reason. After every
step: a refused command wrote nothing; no loan or pool fact is dated after the clock of the day it
was recorded; and `verify()` is clean, which now re-derives the money (every loan's position from
its facts, every closed period from the log, every collected cent in exactly one period of one
trust, classes within the pool). Payments dated inside a closed period are taken: the next close
reports them as prior-period items, so the verifier's "every cent in one period" is the check.

Each example runs in a savepoint rolled back at its end, like the other state machine. Sized by
`trials`: a short run in `make test`, a long one under `make soak`, the figures reported.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule, run_state_machine_as_test

from ledger.business_time import business_day
from ledger.models import Event
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from remittance.errors import CloseRefused
from remittance.services.closing import first_period
from servicing.services.payment_requests import PaymentRefused
from servicing.services.payments import payment_post
from tests.actors import period_close, TESTS
from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.trusts.deals import TRUST, form, seed_deal
from tests.reliability.savepoint import RolledBackMachine
from tests.soak import SOAK, trials
from trusts.errors import TrustError
from trusts.models import Trust
from trusts.services.pool import pool_loan_remove

pytestmark = [pytest.mark.soak, pytest.mark.django_db]

EXAMPLES = trials(15, 100)
STEPS = trials(30, 60)
BOARDED_ON = date(2026, 1, 5)
CUTOFF = date(2026, 1, 20)
FIRST_DAY = date(2026, 3, 10)  # February, the first period, has ended: it can close at once
LAST_DAY = date(2027, 3, 31)  # the clock stops here: a year of periods is plenty
POOL = [f"L{i:03d}" for i in range(1, 11)]  # in the trust; L011 and L012 are in no trust
LOANS = [*POOL, "L011", "L012"]
INSTALLMENT_CENTS = 84_955  # 599.55 principal and interest + 250.00 escrow
# Dates around the edges: a few days ahead, today, the recent past, deep in closed periods.
OFFSETS = st.one_of(st.integers(-3, 3), st.integers(-75, 5), st.sampled_from((-400, -60, -31, -30, -1, 1, 30)))

RUN: Counter = Counter()


@dataclass
class Books:
    """What the rules say the books hold: the clock, the removals, the periods closed."""

    today: date
    removed: dict[str, date] = field(default_factory=dict)
    closed: list[Period] = field(default_factory=list)
    next_period: Period | None = None

    def last_closed_day(self) -> date | None:
        return self.closed[-1].last_day if self.closed else None

    def payment_refusal(self, loan: str, day: date) -> str | None:
        """Why a payment on `loan` dated `day` must be refused today, or None if it must be taken."""
        if day > self.today:
            return "is in the future"
        if day < BOARDED_ON:
            return "before the loan was boarded"
        if loan in POOL and loan not in self.removed and day <= CUTOFF:
            return "settled with the seller"
        if loan in self.removed and day <= self.removed[loan]:
            return "settled with the buyer"
        return None

    def removal_refusal(self, loan: str, day: date) -> str | None:
        """Why taking `loan` out of the pool on `day` must be refused today, or None."""
        if day > self.today:
            return "is in the future"
        if day < BOARDED_ON:
            return "before the loan was boarded"
        last = self.last_closed_day()
        if last is not None and day <= last:
            return "is closed and paid"
        if day < CUTOFF:
            return "cannot leave its pool before it"
        if loan in self.removed:
            return "already removed"
        return None


def _events() -> int:
    return Event.objects.count()


class BusinessClock(RolledBackMachine):
    """The services on a moving business clock; `self.books` is what the rules say must happen."""

    def __init__(self):
        super().__init__()
        RUN["examples"] += 1
        self.references = 0
        self.seen_position = 0


    def _step(self, name: str) -> None:
        RUN["steps"] += 1
        RUN[name] += 1

    @initialize()
    def open_the_books(self):
        """Twelve loans boarded; ten of them sold to the trust at its cut-off."""
        with business_day(FIRST_DAY):
            board(*seed_rows(12), boarded_on=BOARDED_ON)
            form(seed_deal(cutoff_date=CUTOFF.isoformat(), closing_date=CUTOFF.isoformat(),
                           first_payment_date="2026-03-25"))
        self.books = Books(today=FIRST_DAY, next_period=first_period(Trust.objects.get(code=TRUST)))
        self.seen_position = Event.objects.order_by("-position").values_list("position", flat=True).first()

    # --- the clock -----------------------------------------------------------------------------------

    @rule(days=st.integers(1, 40))
    def advance_the_clock(self, days):
        self._step("clock advanced")
        self.books.today = min(self.books.today + timedelta(days=days), LAST_DAY)

    # --- commands with dates ---------------------------------------------------------------------------

    @rule(which=st.sampled_from(LOANS), offset=OFFSETS)
    def post_a_payment(self, which, offset):
        self._step("pay")
        day = self.books.today + timedelta(days=offset)
        expected = self.books.payment_refusal(which, day)
        self.references += 1
        before = _events()
        with business_day(self.books.today):
            try:
                payment_post(loan_number=which, amount_cents=INSTALLMENT_CENTS, received_on=day,
                             reference=f"BT-{self.references:05d}", acting_user=TESTS)
            except PaymentRefused as refused:
                assert expected is not None, f"payment on {which} dated {day} refused: {refused}"
                assert expected in str(refused) and which in str(refused), str(refused)
                assert _events() == before, "a refused payment wrote something"
                RUN[f"payments refused: {expected}"] += 1
                return
        assert expected is None, f"payment on {which} dated {day} (today {self.books.today}) taken; expected {expected}"
        assert _events() > before
        last = self.books.last_closed_day()
        RUN["payments taken: in a closed period" if last and day <= last else "payments taken"] += 1

    @rule(which=st.sampled_from(POOL), offset=OFFSETS)
    def take_a_loan_out_of_the_pool(self, which, offset):
        self._step("remove")
        day = self.books.today + timedelta(days=offset)
        expected = self.books.removal_refusal(which, day)
        before = _events()
        with business_day(self.books.today):
            try:
                pool_loan_remove(trust_code=TRUST, loan_number=which, removed_on=day, kind="repurchase",
                                 reason="breach of the eligibility representation", acting_user=TESTS)
            except TrustError as refused:
                assert expected is not None, f"removal of {which} on {day} refused: {refused}"
                assert expected in str(refused), f"expected {expected!r}: {refused}"
                assert _events() == before, "a refused removal wrote something"
                RUN[f"removals refused: {expected}"] += 1
                return
        assert expected is None, f"removal of {which} on {day} (today {self.books.today}) taken; expected {expected}"
        self.books.removed[which] = day
        RUN["removals taken"] += 1

    @rule(ahead=st.sampled_from((0, 0, 0, 1, 40)))
    def close_the_next_period(self, ahead):
        """Close the trust's next period as of today, or as of a day ahead of the clock (always refused)."""
        self._step("close")
        period = self.books.next_period
        as_of = self.books.today + timedelta(days=ahead)
        before = _events()
        if ahead:
            expected = "in the future"
        elif period.last_day >= self.books.today:
            expected = "cannot close before it ends"
        else:
            expected = None
        with business_day(self.books.today):
            try:
                period_close(trust_code=TRUST, period=period, as_of=as_of)
            except CloseRefused as refused:
                assert expected is not None, f"close of {period} on {self.books.today} refused: {refused}"
                assert expected in str(refused), f"expected {expected!r}: {refused}"
                assert _events() == before, "a refused close wrote something"
                RUN[f"closes refused: {expected}"] += 1
                return
        assert expected is None, f"{period} closed on {self.books.today} as of {as_of}; expected {expected}"
        self.books.closed.append(period)
        self.books.next_period = period.next()
        RUN["periods closed"] += 1

    # --- after every step ---------------------------------------------------------------------------

    @invariant()
    def nothing_is_dated_after_the_day_it_was_recorded(self):
        if not hasattr(self, "books"):
            return
        late = (Event.objects.filter(position__gt=self.seen_position, effective_date__gt=self.books.today)
                .filter(stream__startswith="loan:") | Event.objects.filter(
                    position__gt=self.seen_position, effective_date__gt=self.books.today,
                    event_type="PoolLoanRemoved"))
        assert not late.exists(), f"recorded ahead of the clock ({self.books.today}): {list(late[:3])}"
        self.seen_position = Event.objects.order_by("-position").values_list("position", flat=True).first()

    @invariant()
    def the_books_verify_and_the_money_re_derives(self):
        if not hasattr(self, "books"):
            return
        report = verify()
        assert report.ok, report.problems[:5]


def test_hostile_dates_on_a_moving_clock(figures):
    RUN.clear()
    started = time.monotonic()
    run_state_machine_as_test(BusinessClock, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None, print_blob=True,
        derandomize=not SOAK,  # the same sequences in every CI run; new ones under make soak
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    ))
    seconds = round(time.monotonic() - started, 1)
    outcomes = {k: v for k, v in sorted(RUN.items()) if k not in ("examples", "steps")}
    figures.record("business-time model", examples=RUN["examples"], steps=RUN["steps"],
                   max_steps_per_example=STEPS, seconds=seconds, **outcomes)
    assert RUN["examples"] >= 1 and RUN["steps"] >= RUN["examples"]
    assert RUN["payments taken"] >= 1 and sum(v for k, v in RUN.items() if k.startswith("payments refused")) >= 1
