"""Loss mitigation's money rules: payment deferral, repayment and trial plans, and the permanent modification.

Pure functions over values (integer cents, Decimal annual percent rates). The service
(`servicing.services.loss_mitigation`) records what they decide; the verifier re-derives it from here.

Policies, and why:
- A plan's installments fall on the loan's own due-date cycle: the first due date (next_due_date + k
  months) after the day the plan starts, then monthly (`cycle_after`).
- A plan payment counts for its installment when received before the next installment's due date
  (one month after it); a plan is kept when, at every installment whose month has ended, the money
  received since the plan started covers the plan's installments up to it (`plan_verdict`).
- Trial and repayment-plan payments are posted as ordinary payments: payment application holds what
  does not cover a whole contractual installment in suspense and applies it once it does, so no cent is
  lost and none is applied to a fee before the installments.
- Payment deferral (the agency "payment deferral"): every installment due and unpaid on the day is
  taken as paid from a non-interest-bearing balance due at payoff, maturity or sale. Its P&I moves
  there as the schedule would have split it (the principal part leaves the interest-bearing balance,
  so the borrower resumes on schedule; the interest part was never collected), with the servicer's
  escrow advances. Missed escrow deposits that were never advanced are not deferred: the escrow
  analysis recovers that shortage. Late charges are waived. Fees stay due.
- Modification: the arrears are capitalized: the interest of every unpaid installment (on the balance,
  which did not amortize), the escrow advances and the fees; late charges are waived (never
  capitalized). Of the capitalized balance, a principal forbearance is set aside as non-interest-bearing
  deferred principal and a forgiven amount is written off; the rest is re-amortized at the new rate over
  the new term from the new first payment date (a level payment). Suspense is left as it is: it joins
  the first installment of the modified loan.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from ledger.domain.money import monthly_rate_amount, require_cents
from servicing.domain.amortization import level_payment_cents, maturity_date, scheduled_split

# LoanPosition.loss_mitigation's values (the dashboard shows them): "" is none.
FORBEARANCE, REPAYMENT_PLAN, TRIAL, MODIFIED = "forbearance", "repayment_plan", "trial", "modified"
STEPS = (FORBEARANCE, REPAYMENT_PLAN, TRIAL, MODIFIED)
MAX_PLAN_MONTHS = 12  # forbearance, repayment and trial plans beyond a year are not a servicer's to grant alone
MAX_TERM_MONTHS = 480  # a modified term of at most 40 years (the agencies' limit)


def due_dates_through(next_due_date: date, through: date) -> tuple[date, ...]:
    """The installments due on or before `through`, from the oldest unpaid (counted from it: no drift)."""
    dates: list[date] = []
    while (due := next_due_date + relativedelta(months=len(dates))) <= through:
        dates.append(due)
    return tuple(dates)


def due_dates_before(next_due_date: date, before: date) -> tuple[date, ...]:
    """The installments due before `before` (a new first payment date), from the oldest unpaid."""
    return tuple(d for d in due_dates_through(next_due_date, before) if d < before)


def cycle_after(next_due_date: date, on: date, months: int) -> tuple[date, ...]:
    """`months` due dates of the loan's cycle, the first one after `on`."""
    k = 0
    while next_due_date + relativedelta(months=k) <= on:
        k += 1
    return tuple(next_due_date + relativedelta(months=k + i) for i in range(months))


def cycle_from(next_due_date: date, on: date, months: int) -> tuple[date, ...]:
    """`months` due dates of the loan's cycle, the first one on or after `on` (a forbearance's months)."""
    return cycle_after(next_due_date, on - relativedelta(days=1), months)


def spread(total_cents: int, months: int) -> tuple[int, ...]:
    """`total_cents` over `months` installments: equal, the first ones a cent more; sums to the total."""
    require_cents(total_cents, "total_cents")
    if months <= 0:
        raise ValueError(f"months must be at least 1, got {months}")
    share, extra = divmod(total_cents, months)
    return tuple(share + (1 if i < extra else 0) for i in range(months))


# --- Plans ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanVerdict:
    """A plan checked on a day: kept, broken, or still running (neither); the money counted per installment."""

    kept: bool
    broken: bool
    received_cents: tuple[int, ...]  # cumulative, by each installment's deadline (as far as it has passed)
    required_cents: tuple[int, ...]  # cumulative


def plan_verdict(*, due_dates: Sequence[date], amounts: Sequence[int], payments: Sequence[tuple[date, int]],
                 started_on: date, on: date) -> PlanVerdict:
    """Whether the plan is kept or broken on `on`, by the money received from `started_on`.

    The k-th installment's deadline is the day before the due date a month after it. Broken as soon
    as a deadline on or before `on` passed with the cumulative money short; kept once the money
    received covers every installment (early is fine); otherwise still running.
    """
    if len(due_dates) != len(amounts) or not due_dates:
        raise ValueError("a plan needs as many amounts as due dates, at least one")
    counted = [(day, cents) for day, cents in payments if started_on <= day <= on]
    required, received = [], []
    total_required = 0
    for due, amount in zip(due_dates, amounts):
        total_required += amount
        deadline = due + relativedelta(months=1) - relativedelta(days=1)
        required.append(total_required)
        received.append(sum(c for day, c in counted if day <= min(deadline, on)))
        if deadline <= on and received[-1] < total_required:
            return PlanVerdict(False, True, tuple(received), tuple(required))
    kept = sum(c for _, c in counted) >= total_required
    return PlanVerdict(kept, False, tuple(received), tuple(required))


@dataclass(frozen=True, slots=True)
class RepaymentPlanTerms:
    """The arrears spread over the plan's months on top of the regular installment."""

    arrears_cents: int
    regular_installment_cents: int
    due_dates: tuple[date, ...]
    amounts_cents: tuple[int, ...]


def repayment_plan(*, next_due_date: date, payment_pi_cents: int, escrow_monthly_cents: int, suspense_cents: int,
                   started_on: date, months: int) -> RepaymentPlanTerms:
    """The arrears on `started_on` (the installments due and unpaid, less suspense) spread over `months`."""
    _require_months(months)
    regular = payment_pi_cents + escrow_monthly_cents
    missed = due_dates_through(next_due_date, started_on)
    arrears = max(len(missed) * regular - suspense_cents, 0)
    if arrears == 0:
        raise ValueError(f"the loan has no arrears on {started_on.isoformat()}: there is nothing to repay")
    dues = cycle_after(next_due_date, started_on, months)
    return RepaymentPlanTerms(arrears_cents=arrears, regular_installment_cents=regular, due_dates=dues,
                              amounts_cents=tuple(regular + extra for extra in spread(arrears, months)))


def trial_due_dates(*, next_due_date: date, started_on: date, months: int) -> tuple[date, ...]:
    _require_months(months)
    return cycle_after(next_due_date, started_on, months)


# --- Deferral ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deferral:
    """The installments due and unpaid, taken as paid from the non-interest-bearing deferred balance."""

    due_dates: tuple[date, ...]
    principal_cents: int
    interest_cents: int
    escrow_advance_cents: int
    late_charges_waived_cents: int
    next_due_date_after: date

    @property
    def deferred_cents(self) -> int:
        return self.principal_cents + self.interest_cents + self.escrow_advance_cents


def deferral(*, principal_balance_cents: int, note_rate: Decimal, payment_pi_cents: int, next_due_date: date,
             escrow_advance_cents: int, late_charges_due_cents: int, on: date) -> Deferral:
    """The payment deferral of every installment due and unpaid on `on` (see the module's policies)."""
    dues = due_dates_through(next_due_date, on)
    if not dues:
        raise ValueError(f"no installment is past due on {on.isoformat()}: there is nothing to defer")
    balance, interest = principal_balance_cents, 0
    for _ in dues:
        month_interest, month_principal = scheduled_split(balance_cents=balance, note_rate=note_rate,
                                                          payment_cents=payment_pi_cents)
        interest += month_interest
        balance -= month_principal
    if balance == 0:
        raise ValueError("deferring these installments would clear the interest-bearing balance; pay it off")
    return Deferral(due_dates=dues, principal_cents=principal_balance_cents - balance, interest_cents=interest,
                    escrow_advance_cents=escrow_advance_cents, late_charges_waived_cents=late_charges_due_cents,
                    next_due_date_after=next_due_date + relativedelta(months=len(dues)))


# --- Modification -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Modification:
    """A permanent modification's figures: what was capitalized, set aside, forgiven, and the new terms."""

    missed_due_dates: tuple[date, ...]
    principal_before_cents: int
    missed_interest_cents: int
    escrow_advance_cents: int
    fees_cents: int
    late_charges_waived_cents: int
    principal_forbearance_cents: int
    forgiven_cents: int
    principal_after_cents: int
    note_rate: Decimal
    term_months: int
    first_payment_date: date
    maturity_date: date
    payment_pi_cents: int

    @property
    def capitalized_cents(self) -> int:
        return self.missed_interest_cents + self.escrow_advance_cents + self.fees_cents


def modification(*, principal_balance_cents: int, note_rate: Decimal, next_due_date: date, escrow_advance_cents: int,
                 fees_due_cents: int, late_charges_due_cents: int, on: date, new_note_rate: Decimal,
                 term_months: int, first_payment_date: date, principal_forbearance_cents: int = 0,
                 forgiven_cents: int = 0) -> Modification:
    """The modification agreed on `on` (see the module's policies); refuses terms that cannot be booked."""
    require_cents(principal_forbearance_cents, "principal_forbearance_cents")
    require_cents(forgiven_cents, "forgiven_cents")
    if not isinstance(new_note_rate, Decimal) or not new_note_rate.is_finite() or new_note_rate < 0:
        raise ValueError(f"the new note rate must be a Decimal percent of zero or more, got {new_note_rate!r}")
    if type(term_months) is not int or not 1 <= term_months <= MAX_TERM_MONTHS:
        raise ValueError(f"the new term must be 1 to {MAX_TERM_MONTHS} months, got {term_months!r}")
    if first_payment_date <= on or first_payment_date < next_due_date:
        raise ValueError(f"the first modified payment ({first_payment_date.isoformat()}) must fall after the "
                         f"modification ({on.isoformat()}) and not before the next due date "
                         f"({next_due_date.isoformat()})")
    if first_payment_date > on + relativedelta(months=2):
        raise ValueError(f"the first modified payment ({first_payment_date.isoformat()}) is more than two months "
                         f"after the modification ({on.isoformat()})")
    missed = due_dates_before(next_due_date, first_payment_date)
    # An unpaid installment leaves the balance where it was: each month's interest is on the same balance.
    interest = len(missed) * monthly_rate_amount(principal_balance_cents, note_rate)
    capitalized = principal_balance_cents + interest + escrow_advance_cents + fees_due_cents
    after = capitalized - principal_forbearance_cents - forgiven_cents
    if after <= 0:
        raise ValueError(f"forbearance of {principal_forbearance_cents} and forgiveness of {forgiven_cents} cents "
                         f"leave nothing of the capitalized balance of {capitalized} cents to amortize")
    return Modification(
        missed_due_dates=missed, principal_before_cents=principal_balance_cents, missed_interest_cents=interest,
        escrow_advance_cents=escrow_advance_cents, fees_cents=fees_due_cents,
        late_charges_waived_cents=late_charges_due_cents, principal_forbearance_cents=principal_forbearance_cents,
        forgiven_cents=forgiven_cents, principal_after_cents=after, note_rate=new_note_rate,
        term_months=term_months, first_payment_date=first_payment_date,
        maturity_date=maturity_date(first_payment_date=first_payment_date, term_months=term_months),
        payment_pi_cents=level_payment_cents(principal_cents=after, note_rate=new_note_rate, term_months=term_months),
    )


def _require_months(months: object) -> None:
    if type(months) is not int or not 1 <= months <= MAX_PLAN_MONTHS:
        raise ValueError(f"a plan runs 1 to {MAX_PLAN_MONTHS} months, got {months!r}")
