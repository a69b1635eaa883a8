"""A loan as a repline of its own at the start of a collection period, whether it is a trust's pool loan or a
row of the loan tape the trust will be formed from (pure).

One rule for both, so a PAC schedule built from a pool's tape before the trust exists is the schedule the
trust formed from that tape gives (`analytics.selectors.trust_deal` reads a pool loan's balance from the
ledger; a tape states it): the loan's balance, its note rate as gross WAC, its note rate less its servicing
fee rate as net WAC, its term, and its contractual level P&I; its age and lead counted from its first
payment date to the period's first day (`remittance.domain.loan_calendar.timing_at`, as a close counts
them). A loan with nothing left to pay, or past its last installment, is no repline.

A tape has no trust calendar yet, so the deal's cut-off stands for it: the projection starts with the first
collection period (a calendar month) beginning on or after the cut-off's day, the month after the cut-off's
unless the cut-off is a month's first day. That is the first collection period of a deal whose first
distribution falls in the month after it (a cut-off of 2026-01-15 and a first payment of 2026-03-25:
February), as `remittance.domain.trust_calendar.first_collection_period` counts it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from analytics.domain.collateral import Repline
from remittance.domain.loan_calendar import timing_at
from remittance.domain.trust_calendar import Period
from servicing.domain.loan_tape import LoanTapeRow


class TapeLoansError(ValueError):
    """The loans asked for are not on the tape (the message names them)."""


def loan_repline(*, name: str, balance_cents: int, note_rate: Decimal, servicing_fee_rate: Decimal,
                 term_months: int, payment_pi_cents: int, first_payment_date: date,
                 period_start: date) -> Repline | None:
    """The loan as one repline as the period beginning on `period_start` starts; None when it pays nothing more."""
    if balance_cents <= 0:
        return None
    timing = timing_at(first_payment_date, period_start)
    if timing.age >= term_months:
        return None
    return Repline(
        name=name, balance=balance_cents / 100, gross_wac=note_rate, net_wac=note_rate - servicing_fee_rate,
        term=term_months, age=timing.age, payment=payment_pi_cents / 100, lead=timing.lead,
    )


def first_period_after_cutoff(cutoff: date) -> Period:
    """The first collection period beginning on or after the cut-off."""
    period = Period.containing(cutoff)
    return period if cutoff == period.first_day else period.next()


def tape_replines(rows: Sequence[LoanTapeRow], cutoff: date, loans: Iterable[str] | None = None) -> tuple[Repline, ...]:
    """The tape's loans (only `loans`, in the tape's order, when given) as replines from the cut-off's period.

    A tape's balance is the loan's current balance (the parser puts the original balance there when the
    column is empty), its P&I the one boarding records."""
    wanted = None if loans is None else list(dict.fromkeys(loans))
    if wanted is not None:
        unknown = [n for n in wanted if n not in {row.loan_number for row in rows}]
        if unknown:
            raise TapeLoansError(f"--loans: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
                                 "not on the tape")
        if not wanted:
            raise TapeLoansError("--loans names no loan")
    start = first_period_after_cutoff(cutoff).first_day
    replines = (loan_repline(
        name=row.loan_number, balance_cents=row.current_balance_cents, note_rate=row.note_rate,
        servicing_fee_rate=row.servicing_fee_rate, term_months=row.term_months,
        payment_pi_cents=row.payment_pi_cents, first_payment_date=row.first_payment_date, period_start=start,
    ) for row in rows if wanted is None or row.loan_number in wanted)
    return tuple(r for r in replines if r is not None)
