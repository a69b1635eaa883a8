"""Database reads for analytics: a trust as a deal to project, and the speeds its pool realized.

A trust's deal starts at its next open period: each pool loan still active,
at its ledger balance on the eve of that period (or on the day it joined
the pool, for a loan joining during the period), with its own note rate,
servicing fee rate, contractual P&I and term (one repline per loan, named by
its loan number, so the projected months are facts the close could have
recorded), and the classes, unpaid fees and spread as the last close left
them (`remittance.facts.carried_into`, what the next close will start from).

Realized speeds of a closed period, the standard's way (B.2 a, B.3): the
actual end balance is the published one (PeriodResult, whose factors are
the pool's), less loans that joined the pool during the period; the
scheduled end balance is the beginning balance amortized by the loans' own
schedules, each loan paying the installments falling due in the period and
nothing else. Everything else that left the pool (curtailments, payoffs,
repurchases, liquidations) is prepayment. MONTH is the loans' average age
at the end of the period, weighted by balance and rounded to the month
(D.2), so the PSA is comparable to a projection's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from analytics.collateral import Repline
from analytics.loan_calendar import installments_due, scheduled_balance_cents, timing_at
from analytics.projection import Deal
from analytics.realized import Speeds, speeds_from_balances
from analytics.structure import Structure
from ledger.selectors import account_balance
from remittance.calendar import Period
from remittance.facts import carried_into
from remittance.models import PeriodResult
from servicing import accounts
from servicing.models import CLOSED_STATUSES, Loan, LoanPosition
from trusts.models import PoolLoan, SecurityClass, Trust


class TrustNotFound(LookupError):
    """No trust has that code."""


def trust_or_error(code: str) -> Trust:
    try:
        return Trust.objects.get(code=code)
    except Trust.DoesNotExist:
        raise TrustNotFound(f"no trust {code!r}") from None


def next_open_period(trust: Trust) -> Period:
    """The first period the trust has not closed: the one after its last close, or its first."""
    last = PeriodResult.objects.filter(trust=trust).order_by("-period").values_list("period", flat=True).first()
    if last is not None:
        return Period.parse(last).next()
    return Period.containing(trust.first_payment_date).previous()


def trust_deal(code: str) -> tuple[Deal, Period]:
    """The trust's pool and classes as its next open period starts, and that period."""
    trust = trust_or_error(code)
    period = next_open_period(trust)
    eve = period.first_day - timedelta(days=1)
    replines = tuple(r for r in (_repline(loan, max(eve, joined), period)
                                 for loan, joined in _active_loans(trust, period)) if r)
    carried = carried_into(trust, period)
    faces = dict(SecurityClass.objects.filter(trust=trust).values_list("name", "original_face_cents"))
    structure = Structure(
        classes=carried.classes, original_faces=faces,
        fee_rates={n.name: n.gross_rate - n.net_rate for n in replines},
        gross_rates={n.name: n.gross_rate for n in replines},
        issuer_spread_rate=trust.issuer_spread_rate,
        fee_shortfall_cents=carried.fee_shortfall_cents, spread_shortfall_cents=carried.spread_shortfall_cents,
    )
    return Deal(replines=replines, structure=structure), period


def _active_loans(trust: Trust, period: Period) -> list[tuple[Loan, date]]:
    """The pool's loans still paying, each with the day it joined the pool."""
    joined = dict(PoolLoan.objects.filter(trust=trust, removed_on__isnull=True, transferred_on__lte=period.last_day)
                  .values_list("loan_id", "transferred_on"))
    closed = set(LoanPosition.objects.filter(loan_id__in=list(joined), status__in=CLOSED_STATUSES)
                 .values_list("loan_id", flat=True))
    loans = Loan.objects.filter(pk__in=[n for n in joined if n not in closed]).order_by("pk")
    return [(loan, joined[loan.pk]) for loan in loans]


def _repline(loan: Loan, as_of: date, period: Period) -> Repline | None:
    balance = account_balance(accounts.principal(loan.pk), as_of=as_of)
    if balance <= 0:
        return None
    timing = timing_at(loan.first_payment_date, period.first_day)
    if timing.age >= loan.term_months:
        return None
    return Repline(
        name=loan.pk, balance=balance / 100, gross_rate=loan.note_rate,
        net_rate=loan.note_rate - loan.servicing_fee_rate, term=loan.term_months, age=timing.age,
        payment=loan.payment_pi_cents / 100, lead=timing.lead,
    )


# --------------------------------------------------------- realized speeds


@dataclass(frozen=True, slots=True, kw_only=True)
class RealizedSpeeds:
    """The speeds a trust's pool realized in one closed period, and the balances they come from (cents)."""

    trust_code: str
    period: str
    balance_begin_cents: int
    scheduled_end_cents: int
    actual_end_cents: int
    loan_month: int
    speeds: Speeds


def realized_speeds(trust_code: str, period: str) -> RealizedSpeeds | None:
    """SMM, CPR and PSA of one closed period of a trust; None if that period is not closed."""
    trust = trust_or_error(trust_code)
    result = PeriodResult.objects.filter(trust=trust, period=period).first()
    return None if result is None else _realized(trust, result)


def realized_speed_history(trust_code: str) -> list[RealizedSpeeds]:
    """The realized speeds of every closed period of a trust, oldest first."""
    trust = trust_or_error(trust_code)
    return [_realized(trust, r) for r in PeriodResult.objects.filter(trust=trust).order_by("period")]


def _realized(trust: Trust, result: PeriodResult) -> RealizedSpeeds:
    period = Period.parse(result.period)
    members = list(PoolLoan.objects.filter(trust=trust, transferred_on__lte=period.last_day))
    loans = {loan.pk: loan for loan in Loan.objects.filter(pk__in=[m.loan_id for m in members])}
    at_start = [m.loan_id for m in members if m.transferred_on < period.first_day
                and (m.removed_on is None or m.removed_on >= period.first_day)]
    eve = period.first_day - timedelta(days=1)
    begins = {n: account_balance(accounts.principal(n), as_of=eve) for n in at_start}
    begin_total = sum(begins.values())
    scheduled = sum(_scheduled_end(loans[n], begin, period) for n, begin in begins.items())
    # The published balances are the factors'; the loans' own schedules give the scheduled ratio.
    scheduled_end = round(result.pool_balance_begin_cents * scheduled / begin_total) if begin_total else 0
    joined = [m.loan_id for m in members if m.transferred_on >= period.first_day and m.removed_on is None]
    actual_end = result.pool_balance_end_cents - sum(
        account_balance(accounts.principal(n), as_of=period.last_day) for n in joined)
    loan_month = max(1, _average_age(loans, begins, period))
    return RealizedSpeeds(
        trust_code=trust.code, period=result.period, balance_begin_cents=result.pool_balance_begin_cents,
        scheduled_end_cents=scheduled_end, actual_end_cents=actual_end, loan_month=loan_month,
        speeds=speeds_from_balances(actual_end=actual_end, scheduled_end=scheduled_end, loan_month=loan_month),
    )


def _average_age(loans: dict[str, Loan], begins: dict[str, int], period: Period) -> int:
    """The loans' age at the end of the period (installments due by then), weighted by balance, rounded."""
    total = sum(begins.values())
    if not total:
        return 0
    weighted = sum(begin * installments_due(loans[n].first_payment_date, loans[n].term_months,
                                            through=period.last_day) for n, begin in begins.items())
    return round(weighted / total)


def _scheduled_end(loan: Loan, begin_cents: int, period: Period) -> int:
    due = installments_due(loan.first_payment_date, loan.term_months, through=period.last_day,
                           after=period.first_day - timedelta(days=1))
    return scheduled_balance_cents(begin_cents, Decimal(loan.note_rate), loan.payment_pi_cents, due)
