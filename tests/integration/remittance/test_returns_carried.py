"""A returned payment never blocks a close: what a period's collections cannot cover is carried and recovered.

Regression: a payment returned after its period was paid out is netted against the trust's next
close; when it was larger than that close's whole collections (a small trust, a month with little
cash) the close was refused ("reversals of money already distributed exceed its collections"), so
the trust could never close again. Now the rest is carried to the next close, which recovers it
first, before the fee, the spread or any class (remittance.domain.close_figures.recover_returns).
"""
from datetime import date

import pytest

from ledger.models import Posting
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from remittance.period_reconciliation import closed_periods_reconcile
from remittance.models import PeriodResult
from remittance.selectors.report_page import reconciliation_lines
from remittance.selectors.reports import remittance_report
from trusts.models import Trust
from remittance.verification import closed_periods_rederived
from servicing.domain.accounts import CUSTODIAL_CASH
from tests.actors import payment_return
from tests.integration.remittance.months import INSTALLMENT_CENTS, close, pay, seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db
CURTAILMENT = 1_000_000  # L002's extra $10,000 of principal with its February installment
ESCROW = 25_000  # of each installment
FEB, MAR, APR = (Period.parse(p) for p in ("2026-02", "2026-03", "2026-04"))


def small_trust(**changes):
    """Two $100,000 loans, one class of $200,000 held by two investors."""
    return seed_trust(loans=["L001", "L002"], **changes,
                      classes=[{"name": "A", "face": "200000.00", "coupon": "net-wac", "principal": "pro-rata",
                                "denomination": "1000.00"}],
                      holders=[{"code": f"INV-0{i}", "name": f"Investor {i}", "class": "A", "face": "100000.00"}
                               for i in (1, 2)])


def report_reconciles(period: str) -> bool:
    """The period's remittance report and its page's reconciliation lines all read OK."""
    report = remittance_report(TRUST, period)
    trust = Trust.objects.get(code=TRUST)
    lines = reconciliation_lines(report, trust, PeriodResult.objects.get(trust=trust, period=period))
    assert report["reconciliation"]["reconciled"], report["reconciliation"]
    assert [line for line in lines if not line.ok] == []
    return True


def custodial_cents() -> int:
    return sum(Posting.objects.filter(account=CUSTODIAL_CASH).values_list("amount_cents", flat=True))


def test_a_return_larger_than_the_next_collections_is_carried_and_recovered_first(loans):
    small_trust()
    pay("L001", FEB)
    pay("L002", FEB, INSTALLMENT_CENTS + CURTAILMENT)
    feb = close("2026-02").result.period_closed
    assert feb.collected["curtailment"] == CURTAILMENT and feb.paid_to_holders_cents > CURTAILMENT
    assert feb.returns_outstanding_cents == 0

    # March: L002's February payment comes back (500.00 interest, 10,099.55 principal), and L001's
    # March installment (499.50 interest, 100.05 principal) is all the trust collects.
    payment_return(loan_number="L002", reference="T-2026-02-L002", returned_on=date(2026, 3, 3), reason="NSF",
                   fee_cents=0)
    pay("L001", MAR)
    mar = close("2026-03").result.period_closed  # refused before: the return exceeded its collections
    assert mar.collected["interest"] == 49_950 - 50_000
    assert mar.prior_period_cents == -(50_000 + 9_955 + CURTAILMENT)
    assert mar.interest_available_cents == mar.principal_available_cents == 0
    assert mar.paid_to_holders_cents == mar.fee_paid_cents == mar.spread_paid_cents == 0
    assert mar.excess_interest_cents == mar.excess_principal_cents == mar.retained_cents == 0
    owed = 50_000 + 9_955 + CURTAILMENT - (49_950 + 10_005)
    assert mar.returns_carried_in_cents == 0 and mar.returns_new_cents == owed
    assert mar.returns_outstanding == (50, owed - 50) and mar.returns_outstanding_cents == owed
    # The servicer moved nothing: its custodial account (which also holds L001's two escrow
    # payments, 250.00 each) stays short what the bank took back.
    assert custodial_cents() == 2 * ESCROW - owed
    assert closed_periods_reconcile() == [] and closed_periods_rederived() == []

    # The classes stand at the pool less the returned principal still carried; the report reconciles.
    assert sum(c.balance_end_cents for c in mar.classes) == mar.pool_balance_end_cents - (owed - 50)
    assert report_reconciles("2026-03")

    # April: both pay, L002 its February, March and April installments and the curtailment again:
    # the carried shortfall comes off first (interest from interest, principal from principal),
    # and only the rest reaches the fee, the spread and the holders.
    pay("L001", APR)
    pay("L002", APR, 3 * INSTALLMENT_CENTS + CURTAILMENT)
    apr = close("2026-04").result.period_closed
    interest = apr.collected["interest"]
    cash = interest + apr.collected["scheduled_principal"] + apr.collected["curtailment"]
    assert apr.returns_carried_in_cents == owed and apr.returns_new_cents == 0
    assert apr.returns_recovered_cents == owed and apr.returns_outstanding_cents == 0
    assert apr.returns_outstanding == (0, 0)
    assert apr.interest_available_cents == interest - 50
    assert apr.principal_available_cents == cash - interest - (owed - 50)
    paid_out = (apr.fee_paid_cents + apr.spread_paid_cents + apr.paid_to_holders_cents
                + apr.excess_interest_cents + apr.excess_principal_cents + apr.retained_cents)
    assert paid_out == cash - owed
    # The servicer kept back what it was short and remitted the rest: only the escrow remains (of
    # L001's three installments and the three L002's April payment covered).
    assert custodial_cents() == 6 * ESCROW
    assert sum(c.balance_end_cents for c in apr.classes) == apr.pool_balance_end_cents
    assert closed_periods_reconcile() == []
    assert report_reconciles("2026-04")
    report = verify()
    assert report.ok, report.problems


def test_a_scheduled_trust_advances_the_unpaid_installment_and_carries_the_rest_of_the_return(loans):
    # Scheduled/scheduled: refused before too (the advancing rules took the negative collection as bad input).
    small_trust(remittance_type="scheduled/scheduled")
    pay("L001", FEB)
    pay("L002", FEB, INSTALLMENT_CENTS + CURTAILMENT)
    close("2026-02")
    payment_return(loan_number="L002", reference="T-2026-02-L002", returned_on=date(2026, 3, 3), reason="NSF",
                   fee_cents=0)
    pay("L001", MAR)
    mar = close("2026-03").result.period_closed
    # L002's March installment is advanced; the returned curtailment is more than March's principal.
    assert mar.advanced_cents > 0 and mar.advances_outstanding.keys() == {"L002"}
    assert mar.returns_outstanding[0] == 0 and mar.returns_outstanding[1] > 0
    assert mar.principal_available_cents == 0 and mar.interest_available_cents > 0
    assert closed_periods_reconcile() == [] and closed_periods_rederived() == []

    pay("L001", APR)
    pay("L002", APR, 3 * INSTALLMENT_CENTS + CURTAILMENT)
    apr = close("2026-04").result.period_closed
    assert apr.returns_carried_in_cents == mar.returns_outstanding_cents
    assert apr.returns_recovered_cents == apr.returns_carried_in_cents and apr.returns_outstanding_cents == 0
    assert apr.recovered_cents > 0 and apr.advances_outstanding == {}
    assert sum(c.balance_end_cents for c in apr.classes) == apr.pool_balance_end_cents
    assert report_reconciles("2026-03") and report_reconciles("2026-04")
    report = verify()
    assert report.ok, report.problems
