"""A loan's terms as a snapshot: its product, how it amortizes, and the terms in force for each due date.

Pure. `LoanTerms` is what the LoanBoarded event records (version 2; a version 1
payload reads as a fixed-rate, fully amortizing loan over its term):

- product: "fixed" or "arm" (an ARM carries its `ArmTerms`, servicing.domain.arm);
- term_months: months to maturity (the last installment is due `term_months - 1`
  months after the first);
- amortization_months: the months its level payment amortizes over, counted from
  the first installment; more than the term makes a balloon loan, whose maturity
  installment is the whole remaining balance plus that month's interest;
- interest_only_months: the first installments pay interest only; then the P&I is
  recast over the amortization months that remain (a LoanTermsChanged event).

The terms in force are a timeline on the position (`TermsStep`s: from which due
date a note rate and a P&I apply), so an installment is always split on the
terms of its own due date, whatever day it is paid (docs/DOMAIN.md, "ARM").
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from ledger.domain.money import monthly_rate_amount
from servicing.domain.amortization import level_payment_cents
from servicing.domain.arm import ArmTerms

FIXED, ARM = "fixed", "arm"
PRODUCTS = (FIXED, ARM)
# The terms a loan of a product may have (a plain fixed loan of an old tape keeps 1 to 480).
MIN_TERM, MAX_TERM = 120, 480


class TermsRefused(ValueError):
    """Terms a loan cannot have (the message names the field)."""


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """The product and amortization of a loan, as boarded (the LoanBoarded v2 snapshot)."""

    product: str
    term_months: int
    amortization_months: int
    interest_only_months: int = 0
    arm: ArmTerms | None = None

    @classmethod
    def fixed(cls, term_months: int) -> LoanTerms:
        """A fixed-rate, fully amortizing loan: every loan boarded before products existed."""
        return cls(product=FIXED, term_months=term_months, amortization_months=term_months)

    @property
    def is_balloon(self) -> bool:
        return self.amortization_months > self.term_months

    @property
    def is_plain(self) -> bool:
        """Fixed, fully amortizing, no interest-only period: the terms of every loan before products."""
        return self.product == FIXED and not self.is_balloon and not self.interest_only_months

    def check(self) -> None:
        """Refuse terms no loan here can have, naming the field."""
        if self.product not in PRODUCTS:
            raise TermsRefused(f"product {self.product[:20]!r} must be fixed or arm")
        if not self.is_plain and not MIN_TERM <= self.term_months <= MAX_TERM:
            raise TermsRefused(f"term_months {self.term_months} must be from {MIN_TERM} to {MAX_TERM} "
                               "for an ARM, interest-only or balloon loan")
        if self.amortization_months < self.term_months:
            raise TermsRefused(f"amortization_months {self.amortization_months} is below term_months "
                               f"{self.term_months}: a loan amortizes over its term or longer (a balloon)")
        if self.amortization_months > MAX_TERM:
            raise TermsRefused(f"amortization_months {self.amortization_months} is above {MAX_TERM}")
        if not 0 <= self.interest_only_months < self.term_months:
            raise TermsRefused(f"interest_only_months {self.interest_only_months} must be from 0 to below "
                               f"term_months {self.term_months}")
        if (self.product == ARM) != (self.arm is not None):
            raise TermsRefused("an ARM needs its index, margin, caps and change months; a fixed loan has none")
        if self.arm is not None:
            self.arm.check(term_months=self.term_months)

    def due_date(self, first_payment_date: date, number: int) -> date:
        """The due date of installment `number` (1 is the first)."""
        return first_payment_date + relativedelta(months=number - 1)

    def maturity_date(self, first_payment_date: date) -> date:
        return self.due_date(first_payment_date, self.term_months)

    def balloon_due_date(self, first_payment_date: date) -> date | None:
        """The due date of a balloon loan's last installment (the whole balance), None when fully amortizing."""
        return self.maturity_date(first_payment_date) if self.is_balloon else None

    def number_of(self, first_payment_date: date, due: date) -> int:
        """Which installment falls due on `due` (1 for the first)."""
        return (due.year - first_payment_date.year) * 12 + due.month - first_payment_date.month + 1

    def payment_cents(self, *, balance_cents: int, note_rate: Decimal, from_number: int) -> int:
        """The P&I from installment `from_number` on: interest only inside the interest-only period, else the
        level payment that amortizes `balance_cents` over the amortization months left."""
        if from_number <= self.interest_only_months:
            return monthly_rate_amount(balance_cents, note_rate)
        left = self.amortization_months - from_number + 1
        if left <= 0:
            raise TermsRefused(f"installment {from_number} is past the amortization months "
                               f"({self.amortization_months})")
        return level_payment_cents(principal_cents=balance_cents, note_rate=note_rate, term_months=left)


@dataclass(frozen=True, slots=True)
class TermsStep:
    """From `first_due_date` on (None: from boarding), installments are split at this rate and P&I."""

    first_due_date: date | None
    note_rate: Decimal
    payment_pi_cents: int

    def as_json(self) -> list[Any]:
        return [self.first_due_date.isoformat() if self.first_due_date else None, str(self.note_rate),
                self.payment_pi_cents]


def steps_from_json(raw: Iterable[Sequence[Any]] | None) -> tuple[TermsStep, ...]:
    """The position's `terms_changes` (JSON lists) as steps, in due-date order."""
    return tuple(TermsStep(date.fromisoformat(d) if d else None, Decimal(rate), int(pi)) for d, rate, pi in raw or ())


def terms_on(steps: Sequence[TermsStep], due: date, rate: Decimal, pi_cents: int) -> tuple[Decimal, int]:
    """(note rate, P&I) for the installment due on `due`: the last step from on or before it; (rate, pi_cents)
    when no step says (a loan whose terms never changed)."""
    for step in reversed(steps):
        if step.first_due_date is None or step.first_due_date <= due:
            return step.note_rate, step.payment_pi_cents
    return rate, pi_cents


def timeline_with(steps: Sequence[TermsStep], change: TermsStep, *, rate_before: Decimal,
                  pi_before: int) -> tuple[TermsStep, ...]:
    """The timeline with `change` added (seeded with the terms in force before it when it was empty); a change
    from the same due date replaces the earlier one."""
    seeded = tuple(steps) or (TermsStep(None, rate_before, pi_before),)
    kept = tuple(s for s in seeded if s.first_due_date != change.first_due_date)
    return tuple(sorted((*kept, change), key=lambda s: s.first_due_date or date.min))


def installment_split(*, balance_cents: int, note_rate: Decimal, payment_pi_cents: int, due: date,
                      balloon_due: date | None) -> tuple[int, int]:
    """(interest, principal) of the installment due on `due`: the month's interest, and the rest of the P&I
    (never below zero nor above the balance); a balloon's last installment takes the whole balance."""
    interest = monthly_rate_amount(balance_cents, note_rate)
    if balloon_due is not None and due >= balloon_due:
        return interest, balance_cents
    return interest, min(max(payment_pi_cents - interest, 0), balance_cents)


def scheduled_balance_cents(*, balance_cents: int, next_due: date, until: date, steps: Sequence[TermsStep],
                            rate: Decimal, pi_cents: int, balloon_due: date | None) -> int:
    """The balance once every installment due from `next_due` to before `until` is paid on its own terms:
    the balance "scheduled" at a change whose first installment is due on `until` (what an ARM recasts)."""
    due, months = next_due, 0
    while due < until and balance_cents > 0:
        due_rate, due_pi = terms_on(steps, due, rate, pi_cents)
        _, principal = installment_split(balance_cents=balance_cents, note_rate=due_rate, payment_pi_cents=due_pi,
                                         due=due, balloon_due=balloon_due)
        balance_cents -= principal
        months += 1
        due = next_due + relativedelta(months=months)
    return balance_cents


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    number: int
    due_date: date
    note_rate: Decimal
    payment_cents: int
    interest_cents: int
    principal_cents: int
    balance_cents_after: int


def product_schedule(*, terms: LoanTerms, principal_cents: int, note_rate: Decimal, first_payment_date: date,
                     rates: dict[int, Decimal] | None = None) -> tuple[ScheduledInstallment, ...]:
    """A loan's whole schedule on its product's rules: `rates` maps an installment number to the note rate
    from it on (an ARM's path); the P&I is recast there on the scheduled balance, and at the end of an
    interest-only period; a balloon's last installment is the whole balance."""
    rates = dict(rates or {})
    balloon = terms.balloon_due_date(first_payment_date)
    rate = note_rate
    pi = terms.payment_cents(balance_cents=principal_cents, note_rate=rate, from_number=1)
    balance, rows = principal_cents, []
    for number in range(1, terms.term_months + 1):
        if number in rates or (number == terms.interest_only_months + 1 and number > 1):
            rate = rates.get(number, rate)
            pi = terms.payment_cents(balance_cents=balance, note_rate=rate, from_number=number)
        due = terms.due_date(first_payment_date, number)
        interest, principal = installment_split(balance_cents=balance, note_rate=rate, payment_pi_cents=pi, due=due,
                                                balloon_due=balloon)
        if number == terms.term_months:
            principal = balance  # the last installment clears the loan, as amortization.schedule's does
        balance -= principal
        rows.append(ScheduledInstallment(number, due, rate, interest + principal, interest, principal, balance))
        if balance == 0:
            break
    return tuple(rows)
