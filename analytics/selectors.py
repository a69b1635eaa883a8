"""Database reads for analytics: a trust as a deal to project, and the speeds its pool realized.

A trust's deal starts at its next open period: each pool loan still active,
at its ledger balance on the eve of that period (or on the day it joined
the pool, for a loan joining during the period), with its own note rate,
servicing fee rate, contractual P&I and term (one repline per loan, named by
its loan number, so the projected months are facts the close could have
recorded), and the classes, unpaid fees and spread as the last close left
them (`remittance.selectors.period_facts.carried_into`, what the next close will start from),
with the deal's declared structure (`trusts.selectors.deal_structure`), the pool's cut-off balance
and the period's number in the deal, so projected months run the deal's own steps as its closes do.

Realized speeds of a closed period, the standard's way (B.2 a, B.3), are
remittance.selectors.reports.period_speeds (the remittance report shows them); here
they are looked up by trust code and period.
"""
from __future__ import annotations

from datetime import date, timedelta

from analytics.domain.collateral import Repline
from analytics.domain.deal_projection import Deal
from analytics.domain.loan_replines import loan_repline
from analytics.domain.structure import Structure
from ledger.selectors import account_balance
from remittance.domain.trust_calendar import Period, first_collection_period, period_number
from remittance.selectors.period_facts import carried_into, pool_original_cents
from remittance.models import PeriodResult
from remittance.selectors.reports import RealizedSpeeds, period_speeds, periods_speeds
from servicing.domain import accounts
from servicing.models import CLOSED_STATUSES, Loan, LoanPosition
from trusts.models import PoolLoan, SecurityClass, Trust
from trusts.selectors import deal_structure


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
    return first_collection_period(trust.first_payment_date)


def trust_deal(code: str) -> tuple[Deal, Period]:
    """The trust's pool and classes as its next open period starts, and that period."""
    trust = trust_or_error(code)
    period = next_open_period(trust)
    eve = period.first_day - timedelta(days=1)
    replines = tuple(r for r in (_repline(loan, max(eve, joined), period)
                                 for loan, joined in _active_loans(trust, period)) if r)
    structure_declared = deal_structure(trust)
    carried = carried_into(trust, period, structure_declared)
    faces = dict(SecurityClass.objects.filter(trust=trust).values_list("name", "original_face_cents"))
    structure = Structure(
        classes=carried.classes, original_faces=faces,
        fee_rates={n.name: n.gross_wac - n.net_wac for n in replines},
        note_rates={n.name: n.gross_wac for n in replines},
        issuer_spread_rate=trust.issuer_spread_rate,
        fee_shortfall_cents=carried.fee_shortfall_cents, spread_shortfall_cents=carried.spread_shortfall_cents,
        deal=structure_declared, cutoff_balance_cents=pool_original_cents(trust),
        first_period_number=period_number(first_collection_period(trust.first_payment_date), period),
        trustee_fee_shortfall_cents=carried.trustee_fee_shortfall_cents,
        # Before the first close the reserve holds its initial deposit (carried_into's).
        reserve_balance_cents=carried.reserve_balance_cents,
        cumulative_loss_cents=carried.cumulative_loss_cents, trigger_failed=carried.trigger_failed,
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
    # The rule a loan tape's replines follow too (analytics.domain.loan_replines).
    return loan_repline(
        name=loan.pk, balance_cents=account_balance(accounts.principal(loan.pk), as_of=as_of),
        note_rate=loan.note_rate, servicing_fee_rate=loan.servicing_fee_rate, term_months=loan.term_months,
        payment_pi_cents=loan.payment_pi_cents, first_payment_date=loan.first_payment_date,
        period_start=period.first_day,
    )


# --------------------------------------------------------- realized speeds


def realized_speeds(trust_code: str, period: str) -> RealizedSpeeds | None:
    """SMM, CPR and PSA of one closed period of a trust; None if that period is not closed."""
    trust = trust_or_error(trust_code)
    result = PeriodResult.objects.filter(trust=trust, period=period).first()
    return None if result is None else period_speeds(trust, result)


def realized_speed_history(trust_code: str) -> list[RealizedSpeeds]:
    """The realized speeds of every closed period of a trust, oldest first."""
    trust = trust_or_error(trust_code)
    return periods_speeds(trust, list(PeriodResult.objects.filter(trust=trust).order_by("period")))
