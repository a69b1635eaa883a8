"""The loan-level monthly investor reporting file: one row a pool loan, a closed period.

Every money figure of a row is the close's own: the period's facts are read again exactly as the close
read them (`remittance.selectors.period_facts.loan_facts` over the window its PeriodClosed recorded), the
read `verify_ledger` re-derives each close with, so the rows add up to the close to the cent, and the
file's totals are checked against the recorded PeriodClosed before it is returned (`LoanLevelMismatch`
otherwise; it cannot happen unless the log was changed).

Each loan's standing is as of the period's last day, as the log stood when the period closed
(`servicing.selectors.positions_as_of`): next due date, days delinquent and MBA bucket on that day,
status (active, foreclosure, REO, paid off, liquidated, charged off), the loss-mitigation step,
bankruptcy chapter and deferred principal. A later payment or a later aging never restates a month.

The layout (remittance.domain.report_formats.LOAN_LEVEL_COLUMNS, in this order; money in dollars with two decimals, rates in percent):
loan_number, period, in_pool_at_start, upb_begin, upb_end, note_rate, net_rate, scheduled_pi,
interest_remitted, scheduled_principal_remitted, curtailment, payoff_principal, repurchase_principal,
liquidation_proceeds, realized_loss, pi_remitted, prior_period, next_due_date, days_delinquent,
delinquency_bucket, status, loss_mitigation, modified, bankruptcy_chapter, deferred_principal.
pi_remitted is everything of the row paid into the trust's collections: interest (the borrower's and a
repurchaser's) and every kind of principal (liquidation proceeds included); realized_loss is not cash.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from remittance.domain.close_figures import LoanFacts
from remittance.domain.report_formats import LOAN_LEVEL_COLUMNS
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodResult
from remittance.selectors.period_facts import loan_facts, window_for
from remittance.selectors.reports import ReportUnavailable
from servicing.domain.delinquency_status import days_delinquent, mba_bucket
from servicing.models import LoanStatus
from servicing.selectors import positions_as_of
from trusts.models import Trust

# The figures the file totals, and the PeriodClosed collection kind each must equal.
TOTALLED = {"interest_remitted": ("interest", "repurchase_interest"),
            "scheduled_principal_remitted": ("scheduled_principal",), "curtailment": ("curtailment",),
            "payoff_principal": ("payoff_principal",), "repurchase_principal": ("repurchase_principal",),
            "liquidation_proceeds": ("liquidation_principal",), "realized_loss": ("realized_loss",)}


class LoanLevelMismatch(AssertionError):
    """The loan-level rows do not add up to the close they report (the message names the figure)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanLevelRow:
    """One pool loan in one closed period: money in cents, standing on the period's last day."""

    loan_number: str
    period: str
    in_pool_at_start: bool
    upb_begin_cents: int
    upb_end_cents: int
    note_rate: Decimal
    net_rate: Decimal
    scheduled_pi_cents: int
    interest_remitted_cents: int
    scheduled_principal_remitted_cents: int
    curtailment_cents: int
    payoff_principal_cents: int
    repurchase_principal_cents: int
    liquidation_proceeds_cents: int
    realized_loss_cents: int
    prior_period_cents: int
    next_due_date: date | None
    days_delinquent: int
    delinquency_bucket: str
    status: str
    loss_mitigation: str
    bankruptcy_chapter: int | None
    deferred_principal_cents: int

    @property
    def pi_remitted_cents(self) -> int:
        return (self.interest_remitted_cents + self.scheduled_principal_remitted_cents + self.curtailment_cents
                + self.payoff_principal_cents + self.repurchase_principal_cents + self.liquidation_proceeds_cents)

    @property
    def modified(self) -> bool:
        return self.loss_mitigation == "modified"


@dataclass(frozen=True, slots=True)
class LoanLevelFile:
    """A trust's closed period, loan by loan, and the totals it was checked against."""

    trust_code: str
    period: str
    rows: tuple[LoanLevelRow, ...]
    totals: dict[str, int]  # column -> cents, every TOTALLED column, pi_remitted and the two balances


def loan_level_file(trust_code: str, period: str | Period) -> LoanLevelFile:
    """The file for one closed period of one trust (ReportUnavailable naming what is missing)."""
    trust = Trust.objects.filter(code=trust_code).first()
    if trust is None:
        raise ReportUnavailable(f"no trust {trust_code!r}")
    month = period if isinstance(period, Period) else _period(period)
    result = PeriodResult.objects.filter(trust=trust, period=str(month)).first()
    if result is None:
        raise ReportUnavailable(f"{trust.code} {month} is not closed")
    closed = result.period_closed
    through = closed.window.through_position
    scheduled = trust.remittance_type == Trust.RemittanceType.SCHEDULED_SCHEDULED
    facts = loan_facts(trust, month, window_for(trust, month, through), scheduled=scheduled)
    standing = positions_as_of([f.loan_number for f in facts], day=month.last_day, through_position=through)
    rows = tuple(_row(f, standing.get(f.loan_number), month) for f in sorted(facts, key=lambda f: f.loan_number))
    totals = _totals(rows)
    _require_reconciled(totals, closed.collected, result)
    return LoanLevelFile(trust_code=trust.code, period=str(month), rows=rows, totals=totals)


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as error:
        raise ReportUnavailable(str(error)) from None


def _row(f: LoanFacts, position, month: Period) -> LoanLevelRow:
    due = position.next_due_date if position is not None else None
    open_loan = position is not None and position.status in (LoanStatus.ACTIVE, LoanStatus.FORECLOSURE,
                                                              LoanStatus.REO)
    late = days_delinquent(next_due_date=due, as_of=month.last_day) if open_loan and due else 0
    return LoanLevelRow(
        loan_number=f.loan_number, period=str(month), in_pool_at_start=f.in_pool_at_start,
        upb_begin_cents=f.balance_begin_cents, upb_end_cents=f.balance_end_cents, note_rate=f.note_rate,
        net_rate=f.note_rate - f.servicing_fee_rate, scheduled_pi_cents=f.payment_pi_cents,
        interest_remitted_cents=f.interest_cents + f.repurchase_interest_cents,
        scheduled_principal_remitted_cents=f.scheduled_principal_cents, curtailment_cents=f.curtailment_cents,
        payoff_principal_cents=f.payoff_principal_cents, repurchase_principal_cents=f.repurchase_principal_cents,
        liquidation_proceeds_cents=f.liquidation_principal_cents, realized_loss_cents=f.realized_loss_cents,
        prior_period_cents=f.prior_period_cents, next_due_date=due if open_loan else None, days_delinquent=late,
        delinquency_bucket=mba_bucket(next_due_date=due, as_of=month.last_day) if open_loan and due else "",
        status=str(position.status) if position is not None else "",
        loss_mitigation=position.loss_mitigation if position is not None else "",
        bankruptcy_chapter=position.bankruptcy_chapter if position is not None else None,
        deferred_principal_cents=position.deferred_principal_cents if position is not None else 0,
    )


def _totals(rows: tuple[LoanLevelRow, ...]) -> dict[str, int]:
    columns = [*TOTALLED, "pi_remitted", "upb_begin", "upb_end", "prior_period"]
    return {column: sum(getattr(r, f"{column}_cents") for r in rows) for column in columns}


def _require_reconciled(totals: dict[str, int], collected: dict[str, int], result: PeriodResult) -> None:
    """The rows' totals against the close's recorded figures: every collection kind, and the pool's balances."""
    expected = {column: sum(collected[kind] for kind in kinds) for column, kinds in TOTALLED.items()}
    expected.update(upb_begin=result.pool_balance_begin_cents, upb_end=result.pool_balance_end_cents,
                    prior_period=result.prior_period_cents)
    for column, cents in expected.items():
        if totals[column] != cents:
            raise LoanLevelMismatch(f"the loans' {column} adds up to {totals[column]} cents; "
                                    f"the close recorded {cents}")


def loan_level_rows(file: LoanLevelFile) -> list[dict]:
    """The rows as the renderers take them (LOAN_LEVEL_COLUMNS; money under keys ending in `_cents`), then a
    `TOTAL` row of the totalled columns."""
    rows = [{**{column: getattr(r, column) for column in LOAN_LEVEL_COLUMNS if hasattr(r, column)},
             **{f"{column}_cents": getattr(r, f"{column}_cents") for column in LOAN_LEVEL_COLUMNS
                if hasattr(r, f"{column}_cents")}} for r in file.rows]
    total = {"loan_number": "TOTAL", "period": file.period,
             **{f"{column}_cents": cents for column, cents in file.totals.items()}}
    return [*rows, total]
