"""A loan taken out of the pool in the open period, before the previous period's close runs.

Found by the business-time state machine: a removal dated 10 March, recorded before February
closed, made February's close count the loan as gone at February's end (its end balance 0) while
its proceeds belong to March. The pool's end balance fell by the loan's principal with no cash for
it, and the classes stood above the pool. A loan is in the pool at a period's end unless it was
removed on or before that end.
"""
from datetime import date

import pytest

from ledger.business_time import business_day
from ledger.verification import verify
from remittance.models import PeriodResult
from tests.actors import TESTS, period_close
from tests.integration.remittance.months import pay_everyone, seed_trust
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db


def test_a_removal_in_the_open_period_leaves_the_loan_in_the_closed_periods_pool(loans):
    seed_trust()
    with business_day(date(2026, 3, 10)):
        pay_everyone("2026-02")
        pool_loan_remove(trust_code="XYZ-2026-1", loan_number="L001", removed_on=date(2026, 3, 10),
                         kind="repurchase", reason="breach of the eligibility representation", acting_user=TESTS)
        period_close(trust_code="XYZ-2026-1", period="2026-02")
    february = PeriodResult.objects.get(period="2026-02")
    # Ten loans of 100,000.00 less each one's scheduled principal (99.55): L001 still counts at February's end.
    assert february.pool_balance_end_cents == 10 * (10_000_000 - 9_955)
    assert february.principal_collected_cents == 10 * 9_955
    with business_day(date(2026, 4, 2)):
        pay_everyone("2026-03", loans=[f"L{i:03d}" for i in range(2, 11)])
        period_close(trust_code="XYZ-2026-1", period="2026-03")
    march = PeriodResult.objects.get(period="2026-03")
    assert march.pool_balance_begin_cents == february.pool_balance_end_cents
    # L001 leaves in March: its whole balance comes in as repurchase principal.
    assert march.principal_collected_cents == (10_000_000 - 9_955) + 9 * 10_005  # and 9 installments of 100.05
    report = verify()
    assert report.ok, report.problems
