"""The annual escrow analysis under RESPA (Regulation X, 12 CFR 1024.17), aggregate accounting.

A pure function: the escrow balance at the start of the computation year and
the items the account pays (taxes, insurance) in; the new monthly escrow
payment, the cushion, and any shortage, deficiency or surplus out.

What it does, and why:
- Projection: twelve months from the computation year start. In each month
  the installment's deposit comes in first (installments are due on the 1st,
  before any bill of that month is paid), then that month's disbursements go
  out. The low point is the lowest of the twelve month-end balances.
- An item pays its annual amount in one or several installments on its
  dates; the amount is split evenly over the dates, cents by largest
  remainder (earlier dates first), so the parts sum to the annual amount.
- Base monthly payment = annual disbursements / 12, rounded UP to the cent.
  Rounded down, twelve deposits would fall up to 11 cents short of the
  year's bills and every analysis would find a shortage; rounded up, the
  account over-collects at most 11 cents a year, which the next analysis
  finds as surplus and gives back.
- Cushion (the target low point): at most one sixth of the projected annual
  disbursements (1024.17(c)(1)), rounded down so it never exceeds the limit.
  A smaller cushion may be chosen by policy or the loan documents.
- Shortage = cushion - low point, when positive. A deficiency (a negative
  projected balance) is the part of the shortage below zero; it is reported
  as `deficiency_cents` and collected with the rest of the shortage. The
  shortage is spread over `shortage_months` (12 by default, 12 or more as
  1024.17(f)(3)-(4) allow): each payment carries shortage / months rounded
  up, until exactly the shortage has been collected, so the last installment
  of the spread carries only what is left.
- Surplus = low point - cushion, when positive. $50.00 or more is refunded
  if the borrower is current (1024.17(f)(2)); otherwise it is credited: it
  stays in the account and lowers the coming year's payments, spread the
  same way (never below zero; what the payments cannot absorb stays in the
  account for the next analysis). Lowering the deposits by at most the
  surplus in total keeps every month-end balance at or above the cushion.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from ledger.domain.money import allocate
from ledger.domain.money import require_cents
from servicing.domain.arguments import require_date as _require_date

MONTHS_IN_YEAR = 12
SURPLUS_REFUND_THRESHOLD_CENTS = 5000  # $50.00, 12 CFR 1024.17(f)(2)(i)


@dataclass(frozen=True, slots=True)
class EscrowAnalysisItem:
    """A bill paid from escrow: its annual amount and the dates it is paid on."""

    name: str
    annual_amount_cents: int
    disbursement_dates: tuple[date, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("an escrow item needs a name")
        require_cents(self.annual_amount_cents, f"{self.name}: annual_amount_cents")
        if not isinstance(self.disbursement_dates, tuple) or not self.disbursement_dates:
            raise ValueError(f"{self.name}: give the disbursement dates as a non-empty tuple")
        for day in self.disbursement_dates:
            _require_date(f"{self.name}: disbursement date", day)
        if len(set(self.disbursement_dates)) != len(self.disbursement_dates):
            raise ValueError(f"{self.name}: a disbursement date is listed twice")


@dataclass(frozen=True, slots=True)
class EscrowProjectionMonth:
    """One month of the projection: the deposit, the bills paid, the balance at month end."""

    month_start: date
    deposit_cents: int
    disbursements_cents: int
    balance_cents_closing: int


@dataclass(frozen=True, slots=True)
class EscrowAnalysis:
    """The result of an annual escrow analysis."""

    computation_year_start: date
    escrow_balance_cents_opening: int
    annual_disbursements_cents: int
    cushion_cents: int
    base_monthly_escrow_cents: int
    projected_low_point_cents: int
    deficiency_cents: int
    shortage_cents: int
    surplus_cents: int
    surplus_refund_cents: int
    surplus_credit_cents: int
    new_monthly_escrow_cents: int  # the first payment of the year: base + shortage share - credit share
    monthly_escrow_payments_cents: tuple[int, ...]  # the 12 payments of the year, ending any spread exactly
    projection: tuple[EscrowProjectionMonth, ...]  # projected with the base payment, as the low point is


def analyze_escrow(
    *,
    escrow_balance_cents: int,
    items: Sequence[EscrowAnalysisItem],
    computation_year_start: date,
    borrower_current: bool,
    cushion_cents: int | None = None,
    shortage_months: int = MONTHS_IN_YEAR,
) -> EscrowAnalysis:
    """Analyze the escrow account for the computation year starting on `computation_year_start`.

    `escrow_balance_cents` may be negative: the servicer advanced a bill and
    the account is already in deficiency. `cushion_cents` None means the
    largest cushion allowed, one sixth of the annual disbursements.
    """
    require_cents(escrow_balance_cents, "escrow_balance_cents", negative=True)
    _require_date("computation_year_start", computation_year_start)
    if not isinstance(borrower_current, bool):
        raise ValueError("borrower_current must be True or False")
    if type(shortage_months) is not int or shortage_months < MONTHS_IN_YEAR:
        raise ValueError(f"a shortage is spread over 12 months or more, got {shortage_months!r}")
    disbursements = _disbursements_by_month(items=items, computation_year_start=computation_year_start)
    annual = sum(disbursements)
    cushion = _cushion(annual_disbursements_cents=annual, cushion_cents=cushion_cents)
    base = -(-annual // MONTHS_IN_YEAR)  # rounded up, see the module docstring
    projection = _project(
        opening_cents=escrow_balance_cents, deposits=(base,) * MONTHS_IN_YEAR,
        disbursements=disbursements, computation_year_start=computation_year_start,
    )
    low_point = min(month.balance_cents_closing for month in projection)
    shortage = max(cushion - low_point, 0)
    surplus = max(low_point - cushion, 0)
    refund = surplus if surplus >= SURPLUS_REFUND_THRESHOLD_CENTS and borrower_current else 0
    credit = surplus - refund
    collect = _spread(total_cents=shortage, months=shortage_months, cap_cents=None)
    give_back = _spread(total_cents=credit, months=MONTHS_IN_YEAR, cap_cents=base)
    payments = tuple(base + collect[k] - give_back[k] for k in range(MONTHS_IN_YEAR))
    return EscrowAnalysis(
        computation_year_start=computation_year_start,
        escrow_balance_cents_opening=escrow_balance_cents,
        annual_disbursements_cents=annual,
        cushion_cents=cushion,
        base_monthly_escrow_cents=base,
        projected_low_point_cents=low_point,
        deficiency_cents=max(-low_point, 0),
        shortage_cents=shortage,
        surplus_cents=surplus,
        surplus_refund_cents=refund,
        surplus_credit_cents=credit,
        new_monthly_escrow_cents=payments[0],
        monthly_escrow_payments_cents=payments,
        projection=projection,
    )


def _disbursements_by_month(*, items: Sequence[EscrowAnalysisItem], computation_year_start: date) -> list[int]:
    """Each month's total bills, every item's annual amount split exactly over its dates."""
    year_end = computation_year_start + relativedelta(months=MONTHS_IN_YEAR)
    totals = [0] * MONTHS_IN_YEAR
    for item in items:
        if not isinstance(item, EscrowAnalysisItem):
            raise ValueError(f"escrow items must be EscrowAnalysisItem, got {type(item).__name__}")
        dates = sorted(item.disbursement_dates)
        for day, amount in zip(dates, allocate(item.annual_amount_cents, [1] * len(dates))):
            if not computation_year_start <= day < year_end:
                raise ValueError(
                    f"{item.name}: {day.isoformat()} is outside the computation year "
                    f"{computation_year_start.isoformat()} to {year_end.isoformat()}"
                )
            totals[_month_index(day=day, computation_year_start=computation_year_start)] += amount
    return totals


def _month_index(*, day: date, computation_year_start: date) -> int:
    """Which month of the computation year a date falls in (0 to 11)."""
    index = 0
    while computation_year_start + relativedelta(months=index + 1) <= day:
        index += 1
    return index


def _cushion(*, annual_disbursements_cents: int, cushion_cents: int | None) -> int:
    """The target low point: the policy's cushion, never above one sixth of the year's bills."""
    largest = annual_disbursements_cents // 6
    if cushion_cents is None:
        return largest
    require_cents(cushion_cents, "cushion_cents")
    if cushion_cents > largest:
        raise ValueError(
            f"a cushion of {cushion_cents} cents exceeds one sixth of the annual disbursements ({largest} cents)"
        )
    return cushion_cents


def _project(
    *, opening_cents: int, deposits: Sequence[int], disbursements: Sequence[int], computation_year_start: date
) -> tuple[EscrowProjectionMonth, ...]:
    """Month-end balances: each month's deposit in, then its bills out."""
    balance = opening_cents
    months = []
    for index, (deposit, paid_out) in enumerate(zip(deposits, disbursements, strict=True)):
        balance += deposit - paid_out
        months.append(
            EscrowProjectionMonth(
                month_start=computation_year_start + relativedelta(months=index),
                deposit_cents=deposit,
                disbursements_cents=paid_out,
                balance_cents_closing=balance,
            )
        )
    return tuple(months)


def _spread(*, total_cents: int, months: int, cap_cents: int | None) -> list[int]:
    """Twelve monthly shares of total: total / months rounded up (at most cap), until total is reached."""
    share = -(-total_cents // months)
    if cap_cents is not None:
        share = min(share, cap_cents)
    shares = []
    left = total_cents
    for _ in range(MONTHS_IN_YEAR):
        shares.append(min(share, left))
        left -= shares[-1]
    return shares
