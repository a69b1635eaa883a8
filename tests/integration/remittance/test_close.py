"""The month-end close of one trust and period: the seed's example to the cent, and its rules."""
from datetime import date
from decimal import Decimal

import pytest

from ledger.models import Event
from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.verification import verify
from remittance.errors import CloseRefused, PeriodAlreadyClosed
from remittance.models import (
    ClassPeriod,
    Distribution,
    PeriodResult,
    PeriodStatus,
    TrustPeriod,
)
from tests.actors import TESTS, period_close
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db


def test_the_seeds_first_month_to_the_cent(loans):
    seed_trust()
    pay_everyone("2026-02")
    outcome = close("2026-02")
    f = outcome.result.period_closed
    assert f.collected["interest"] == 500_000
    assert f.fee_paid_cents == 50_000 and f.spread_paid_cents == 50_000
    a = f.classes[0]
    assert a.interest_paid_cents == 400_000 and a.principal_paid_cents == 99_550
    payments = Distribution.objects.filter(period="2026-02")
    assert payments.count() == 10
    assert {p.interest_cents + p.principal_cents for p in payments} == {49_955}
    assert a.balance_end_cents == 100_000_000 - 99_550 and a.factor == "0.99900450"
    assert account_balance("holder:INV-01:cash") == 49_955
    assert TrustPeriod.objects.get(period="2026-02").status == PeriodStatus.CLOSED
    report = verify()
    assert report.ok, report.problems
    assert differences() == []


def test_a_five_percent_coupon_carries_its_shortfall(loans):
    seed_trust(classes=[{"name": "A", "face": "1000000.00", "coupon": "5", "principal": "pro-rata",
                         "denomination": "1000.00"}])
    pay_everyone("2026-02")
    a = close("2026-02").result.period_closed.classes[0]
    assert a.interest_due_cents == 416_667 and a.interest_paid_cents == 400_000
    assert a.interest_shortfall_cents == 16_667
    row = ClassPeriod.objects.get(period="2026-02")
    assert row.interest_shortfall_cents == 16_667 and row.factor == Decimal("0.99900450")


def test_a_second_close_is_refused_and_pays_nothing(loans):
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    events = Event.objects.count()
    with pytest.raises(PeriodAlreadyClosed, match="XYZ-2026-1 2026-02 is already closed"):
        close("2026-02")
    assert Event.objects.count() == events


def test_periods_close_in_order_and_only_after_they_end(loans):
    seed_trust()
    with pytest.raises(CloseRefused, match="first collection period is 2026-02"):
        close("2026-01")
    with pytest.raises(CloseRefused, match="before 2026-02 is closed"):
        close("2026-03")
    with pytest.raises(CloseRefused, match="before it ends on 2026-02-28"):
        period_close(trust_code="XYZ-2026-1", period="2026-02", as_of=date(2026, 2, 28))
    with pytest.raises(CloseRefused, match="no trust 'NOPE'"):
        period_close(trust_code="NOPE", period="2026-02")
    with pytest.raises(CloseRefused, match="no such period: 2026-13"):
        period_close(trust_code="XYZ-2026-1", period="2026-13")


def test_money_recorded_after_the_close_belongs_to_the_next_period(loans):
    seed_trust()
    pay_everyone("2026-02", loans=["L001", "L002"])
    close("2026-02")
    pay_everyone("2026-02", loans=["L003"], day=27, tag="-late")  # dated February, recorded after its close
    pay_everyone("2026-03", loans=["L001"])
    f = close("2026-03").result.period_closed
    assert f.prior_period_cents == 59_955
    assert f.collected["interest"] == 99_950  # 500.00 late for February + 499.50 for March
    assert PeriodResult.objects.count() == 2
    assert verify().ok


def test_a_repurchased_loans_proceeds_are_the_periods_principal_and_interest(loans):
    seed_trust()
    pay_everyone("2026-02")
    pool_loan_remove(trust_code="XYZ-2026-1", loan_number="L010", removed_on=date(2026, 2, 20), kind="repurchase",
                     reason="breach of representations", acting_user=TESTS)
    f = close("2026-02").result.period_closed
    assert f.collected["repurchase_principal"] == 10_000_000 - 9_955
    assert f.principal_available_cents == 99_550 + 10_000_000 - 9_955
    assert f.pool_balance_end_cents == 9 * (10_000_000 - 9_955)
    assert account_balance("trust:XYZ-2026-1:cash") == 0
    report = verify()
    assert report.ok, report.problems
