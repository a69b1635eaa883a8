"""The close runs the deal's waterfall: sequential paydown, shortfalls paid back, excess, losses."""
from datetime import date

import pytest

from ledger.selectors import account_balance
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from remittance.models import ClassPeriod
from servicing.services.default import foreclosure_start, loan_liquidate
from tests.actors import TESTS
from tests.integration.remittance.months import INSTALLMENT_CENTS, SEED_LOANS, close, pay, pay_everyone, seed_trust

pytestmark = pytest.mark.django_db

SEQUENTIAL = [
    {"name": "A1", "face": "20000.00", "coupon": "3", "principal": "sequential", "priority": 1},
    {"name": "A2", "face": "480000.00", "coupon": "3.5", "principal": "sequential", "priority": 2},
    {"name": "M", "face": "300000.00", "coupon": "4", "principal": "sequential", "priority": 3},
    {"name": "B", "face": "200000.00", "coupon": "4.5", "principal": "sequential", "priority": 4},
]
HOLDERS = [{"code": f"INV-{c}", "name": f"Holder of {c}", "class": c, "face": face}
           for c, face in (("A1", "20000.00"), ("A2", "480000.00"), ("M", "300000.00"), ("B", "200000.00"))]


def classes(period):
    return {r.security_class.name: r for r in ClassPeriod.objects.filter(period=period).select_related(
        "security_class")}


def sequential_trust():
    return seed_trust(classes=SEQUENTIAL, holders=HOLDERS)


def test_principal_crosses_from_a1_into_a2_within_one_month(loans):
    sequential_trust()
    pay_everyone("2026-02", loans=SEED_LOANS[1:])
    pay("L001", Period.parse("2026-02"), INSTALLMENT_CENTS + 2_500_000)  # a 25,000.00 curtailment
    close("2026-02")
    rows = classes("2026-02")
    assert rows["A1"].principal_paid_cents == 2_000_000 and rows["A1"].balance_end_cents == 0
    assert rows["A2"].principal_paid_cents == 2_500_000 + 99_550 - 2_000_000
    assert rows["M"].principal_paid_cents == rows["B"].principal_paid_cents == 0
    assert account_balance("holder:INV-A1:cash") == 2_000_000 + rows["A1"].interest_paid_cents


def test_excess_interest_goes_to_the_residual_holder(loans):
    sequential_trust()
    pay_everyone("2026-02")
    f = close("2026-02").result.period_closed
    due = sum(c.interest_due_cents for c in f.classes)
    assert due == 5_000 + 140_000 + 100_000 + 75_000  # 3%, 3.5%, 4%, 4.5% of each face over 12
    assert f.excess_interest_cents == 500_000 - 100_000 - due == 80_000
    assert account_balance("issuer:XYZ-2026-1:residual") == f.excess_interest_cents


def test_a_shortfall_is_carried_and_paid_back_the_next_month(loans):
    sequential_trust()
    pay_everyone("2026-02", loans=["L001"])
    close("2026-02")
    february = classes("2026-02")
    assert all(r.interest_shortfall_cents == r.interest_due_cents for r in february.values())
    pay_everyone("2026-03", loans=SEED_LOANS[1:], cents=2 * INSTALLMENT_CENTS)  # the missed month caught up
    pay_everyone("2026-03", loans=["L001"])
    close("2026-03")
    march = classes("2026-03")
    for name, row in march.items():
        assert row.interest_shortfall_cents == 0
        assert row.interest_paid_cents == row.interest_due_cents
        assert row.interest_due_cents > february[name].interest_due_cents  # this month's plus February's
    assert verify().ok


def test_a_liquidation_loss_is_written_off_the_most_junior_class(loans):
    sequential_trust()
    for month in ("2026-02", "2026-03", "2026-04", "2026-05"):
        pay_everyone(month, loans=[n for n in SEED_LOANS if n != "L004"])
        close(month)
    foreclosure_start(loan_number="L004", started_on=date(2026, 6, 5), acting_user=TESTS)
    loan_liquidate(loan_number="L004", liquidated_on=date(2026, 6, 15), gross_proceeds_cents=8_000_000,
                   costs_cents=600_000, acting_user=TESTS)
    pay_everyone("2026-06", loans=[n for n in SEED_LOANS if n != "L004"])
    f = close("2026-06").result.period_closed
    loss = f.collected["realized_loss"]
    assert loss > 0
    rows = classes("2026-06")
    assert rows["B"].loss_written_off_cents == loss
    assert rows["M"].loss_written_off_cents == rows["A2"].loss_written_off_cents == 0
    assert f.collected["liquidation_principal"] == 10_000_000 - loss
    report = verify()
    assert report.ok, report.problems


def test_a_holder_of_two_classes_is_paid_on_each_and_a_paid_off_class_has_factor_zero(loans):
    seed_trust(classes=SEQUENTIAL, holders=[{**h, "code": "INV-BOTH"} if h["class"] in ("A1", "A2") else h
                                            for h in HOLDERS])
    pay_everyone("2026-02", loans=SEED_LOANS[1:])
    pay("L001", Period.parse("2026-02"), INSTALLMENT_CENTS + 2_500_000)
    f = close("2026-02").result.period_closed
    assert [c.factor for c in f.classes][:2] == ["0.00000000", "0.98750938"]  # A2: 474,004.50 of 480,000
    rows = classes("2026-02")
    assert account_balance("holder:INV-BOTH:cash") == sum(
        rows[n].interest_paid_cents + rows[n].principal_paid_cents for n in ("A1", "A2"))
    assert verify().ok
