"""Foreclosure, REO, liquidation with a loss, and charge-off: each step, its postings and its refusals."""
from collections import defaultdict
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.business_time import business_day
from ledger.models import Event, Posting
from ledger.projections import differences
from ledger.selectors import account_balance, balances_under
from ledger.verification import verify
from servicing.domain import accounts
from servicing.errors import LoanClosed, ServicingError, UnknownLoan
from servicing.models import LoanPosition
from servicing.services.default import (
    NONRECOVERABLE_ADVANCES, foreclosure_start, loan_charge_off, loan_liquidate, reo_acquire,
)
from servicing.services.delinquency import loans_age
from servicing.services.loan_events import collections
from servicing.services.escrow import escrow_disburse_due, escrow_item_add
from tests.actors import TESTS
from tests.integration.servicing.tapes import board
from tests.integration.servicing.test_escrow import fund_escrow

pytestmark = pytest.mark.django_db
L = "L001"


@pytest.fixture(autouse=True)
def _mid_2027():
    """The loans' defaults run into December 2026: the business clock stands after them."""
    with business_day(date(2027, 6, 30)):
        yield
LATE = 2_998


def position() -> LoanPosition:
    return LoanPosition.objects.get(loan_id=L)


def every_event_sums_to_zero() -> bool:
    sums = defaultdict(int)
    for event_id, amount in Posting.objects.values_list("event_id", "amount_cents"):
        sums[event_id] += amount
    return all(total == 0 for total in sums.values())


def test_foreclosure_waits_until_more_than_120_days_delinquent():
    board()
    with pytest.raises(ServicingError, match=(
        r"^loan L001: is 120 days delinquent on 2026-06-01; Regulation X forbids starting foreclosure before it "
        r"is more than 120 days delinquent \(earliest 2026-06-02 if still unpaid\)$"
    )):
        foreclosure_start(loan_number=L, started_on=date(2026, 6, 1), acting_user=TESTS)
    assert Event.objects.count() == 1
    event = foreclosure_start(loan_number=L, started_on=date(2026, 6, 2), acting_user=TESTS)
    assert event.event_type == "ForeclosureStarted" and event.payload["days_delinquent"] == 121
    assert position().status == "foreclosure"
    with pytest.raises(ServicingError, match="^loan L001 is in foreclosure; cannot start foreclosure unless it is active$"):
        foreclosure_start(loan_number=L, started_on=date(2026, 6, 3), acting_user=TESTS)


def test_reo_only_from_foreclosure_and_not_before_it_started():
    board()
    with pytest.raises(ServicingError, match="^loan L001 is active; cannot acquire it as REO unless it is in foreclosure$"):
        reo_acquire(loan_number=L, acquired_on=date(2026, 9, 1), acting_user=TESTS)
    foreclosure_start(loan_number=L, started_on=date(2026, 6, 2), acting_user=TESTS)
    with pytest.raises(ServicingError, match="REO acquisition on 2026-06-01 is before foreclosure started on 2026-06-02"):
        reo_acquire(loan_number=L, acquired_on=date(2026, 6, 1), acting_user=TESTS)
    reo_acquire(loan_number=L, acquired_on=date(2026, 9, 15), acting_user=TESTS)
    assert position().status == "reo" and Event.objects.count() == 3


def default_to_reo():
    """The seed loan: a 3,000.00 tax bill advanced, four late charges, foreclosure, REO."""
    board()
    escrow_item_add(loan_number=L, kind="property_tax", payee="County", annual_amount_cents=300_000,
                    due_dates=["2026-03-01"], acting_user=TESTS)
    escrow_disburse_due(as_of=date(2026, 3, 1), acting_user=TESTS)
    loans_age(as_of=date(2026, 6, 2), acting_user=TESTS)
    foreclosure_start(loan_number=L, started_on=date(2026, 6, 2), acting_user=TESTS)
    reo_acquire(loan_number=L, acquired_on=date(2026, 9, 15), acting_user=TESTS)
    p = position()
    assert (p.escrow_advance_cents, p.late_charges_due_cents) == (300_000, 4 * LATE)


def test_liquidation_with_a_loss_splits_the_proceeds_exactly():
    default_to_reo()
    event = loan_liquidate(loan_number=L, liquidated_on=date(2026, 12, 10), gross_proceeds_cents=8_000_000,
                           costs_cents=600_000, acting_user=TESTS)
    p = event.payload
    # 30/360 from 2026-01-01 (paid through) to 2026-12-10 is 339 days: 100,000.00 * 6% * 339 / 360 = 5,650.00.
    assert (p["accrual_start"], p["interest_days"], p["interest_due_cents"]) == ("2026-01-01", 339, 565_000)
    assert (p["costs_paid_cents"], p["advance_recovered_cents"], p["interest_cents"]) == (600_000, 300_000, 565_000)
    assert (p["principal_recovered_cents"], p["realized_loss_cents"]) == (6_535_000, 3_465_000)
    assert (p["late_charges_written_off_cents"], p["refund_to_borrower_cents"]) == (4 * LATE, 0)
    assert p["collections"] == collections(interest=565_000, liquidation_principal=6_535_000, realized_loss=3_465_000)
    assert sorted((x.account, x.amount_cents) for x in event.postings) == sorted([
        (accounts.CUSTODIAL_CASH, 8_000_000), (accounts.LIQUIDATION_COSTS, -600_000),
        ("loan:L001:escrow_advance", -300_000), ("loan:L001:interest", -565_000),
        ("loan:L001:principal", -6_535_000), ("loan:L001:realized_loss", 3_465_000),
        ("loan:L001:principal", -3_465_000), (accounts.LATE_CHARGE_INCOME, 4 * LATE),
        ("loan:L001:late_charges", -4 * LATE),
    ])
    assert balances_under("loan:L001:") == {
        "loan:L001:escrow_advance": 0, "loan:L001:interest": -565_000, "loan:L001:late_charges": 0,
        "loan:L001:principal": 0, "loan:L001:realized_loss": 3_465_000,
    }
    assert account_balance(accounts.LATE_CHARGE_INCOME) == 0
    after = position()
    assert (after.status, after.principal_balance_cents, after.realized_loss_cents) == ("liquidated", 0, 3_465_000)
    assert (after.escrow_advance_cents, after.late_charges_due_cents) == (0, 0)
    assert every_event_sums_to_zero() and verify().ok and differences() == []


def test_a_closed_loan_is_left_alone_and_refused():
    default_to_reo()
    loan_liquidate(loan_number=L, liquidated_on=date(2026, 12, 10), gross_proceeds_cents=8_000_000, costs_cents=0,
                   acting_user=TESTS)
    count = Event.objects.count()
    with pytest.raises(LoanClosed, match="^loan L001 is liquidated; cannot liquidate a closed loan$"):
        loan_liquidate(loan_number=L, liquidated_on=date(2026, 12, 11), gross_proceeds_cents=1, costs_cents=0,
                       acting_user=TESTS)
    with pytest.raises(LoanClosed, match="^loan L001 is liquidated; cannot charge off a closed loan$"):
        loan_charge_off(loan_number=L, charged_off_on=date(2026, 12, 11), acting_user=TESTS)
    with pytest.raises(LoanClosed, match="^loan L001 is liquidated; cannot start foreclosure on a closed loan$"):
        foreclosure_start(loan_number=L, started_on=date(2026, 12, 11), acting_user=TESTS)
    assert loans_age(as_of=date(2027, 1, 1), acting_user=TESTS).loans_aged == 0
    assert escrow_disburse_due(as_of=date(2027, 3, 1), acting_user=TESTS).disbursed == 0  # next year's tax is not paid
    assert Event.objects.count() == count


def test_unrecovered_advances_are_the_servicers_loss_and_excess_goes_to_the_borrower():
    default_to_reo()
    small = loan_liquidate(loan_number="L001", liquidated_on=date(2026, 12, 10), gross_proceeds_cents=700_000,
                           costs_cents=600_000, acting_user=TESTS).payload
    assert (small["advance_recovered_cents"], small["advance_written_off_cents"]) == (100_000, 200_000)
    assert (small["interest_cents"], small["realized_loss_cents"]) == (0, 10_000_000)
    assert account_balance(NONRECOVERABLE_ADVANCES) == 200_000
    board({"loan_number": "L002"})
    foreclosure_start(loan_number="L002", started_on=date(2026, 6, 2), acting_user=TESTS)
    # 2026-01-01 to 2026-06-10 is 159 days: 2,650.00 of interest; 16,350.00 is left for the borrower.
    rich = loan_liquidate(loan_number="L002", liquidated_on=date(2026, 6, 10), gross_proceeds_cents=12_000_000,
                          costs_cents=100_000, acting_user=TESTS).payload
    assert (rich["interest_cents"], rich["principal_recovered_cents"]) == (265_000, 10_000_000)
    assert (rich["refund_to_borrower_cents"], rich["realized_loss_cents"]) == (1_635_000, 0)
    assert account_balance("loan:L002:refund") == -1_635_000
    assert every_event_sums_to_zero() and verify().ok


@pytest.mark.parametrize("loan, kwargs, error, message", [
    ("X9", {}, UnknownLoan, "^loan X9 is not boarded$"),
    ("L001", {}, ServicingError,
     r"^loan L001 is active; cannot liquidate it unless it is in foreclosure or REO \(acquired by foreclosure\)$"),
    ("L001", {"gross_proceeds_cents": -1}, ServicingError,
     "^loan L001: gross proceeds -1 must be integer cents of zero or more$"),
    ("L001", {"costs_cents": 10.5}, ServicingError, "^loan L001: costs 10.5 must be integer cents of zero or more$"),
])
def test_liquidation_refusals(loan, kwargs, error, message):
    board()
    with pytest.raises(error, match=message):
        loan_liquidate(loan_number=loan, **{"liquidated_on": date(2026, 12, 10), "gross_proceeds_cents": 100,
                                            "costs_cents": 0, **kwargs}, acting_user=TESTS)
    assert Event.objects.count() == 1


def test_charge_off_realizes_the_whole_balance_less_funds_held():
    board()
    fund_escrow(L, 50_000)
    with pytest.raises(ServicingError, match=(
        "^loan L001: is 179 days delinquent on 2026-07-30; an active loan is charged off only at 180 days or more$"
    )):
        loan_charge_off(loan_number=L, charged_off_on=date(2026, 7, 30), acting_user=TESTS)
    event = loan_charge_off(loan_number=L, charged_off_on=date(2026, 7, 31), acting_user=TESTS)
    p = event.payload
    assert (p["escrow_applied_cents"], p["interest_cents"], p["principal_recovered_cents"]) == (50_000, 50_000, 0)
    assert p["realized_loss_cents"] == 10_000_000 and p["gross_proceeds_cents"] == 0
    assert p["collections"] == collections(interest=50_000, realized_loss=10_000_000)
    assert sorted((x.account, x.amount_cents) for x in event.postings) == sorted([
        ("loan:L001:escrow", 50_000), ("loan:L001:interest", -50_000),
        ("loan:L001:realized_loss", 10_000_000), ("loan:L001:principal", -10_000_000),
    ])
    after = position()
    assert (after.status, after.principal_balance_cents, after.escrow_balance_cents) == ("charged_off", 0, 0)
    assert after.realized_loss_cents == 10_000_000 and account_balance("loan:L001:principal") == 0
    assert every_event_sums_to_zero() and verify().ok and differences() == []


def test_charge_off_from_foreclosure_needs_no_day_count_but_not_from_a_closed_loan():
    board()
    foreclosure_start(loan_number=L, started_on=date(2026, 6, 2), acting_user=TESTS)
    loan_charge_off(loan_number=L, charged_off_on=date(2026, 6, 3), acting_user=TESTS)
    assert position().status == "charged_off"
    with pytest.raises(LoanClosed, match="^loan L001 is charged off; cannot charge off a closed loan$"):
        loan_charge_off(loan_number=L, charged_off_on=date(2026, 6, 4), acting_user=TESTS)


def test_liquidate_loan_command(capsys):
    default_to_reo()
    call_command("liquidate_loan", L, "--liquidated-on", "2026-12-10", "--proceeds", "80000.00", "--costs", "6000")
    out = capsys.readouterr().out
    assert "loan L001 liquidated on 2026-12-10 (339 days of interest from 2026-01-01)" in out
    assert "realized loss" in out and "34650.00" in out
    with pytest.raises(CommandError, match="loan L001 is liquidated; cannot liquidate a closed loan"):
        call_command("liquidate_loan", L, "--liquidated-on", "2026-12-11", "--proceeds", "1")
    with pytest.raises(CommandError, match="^--proceeds: '1.001' has fractions of a cent"):
        call_command("liquidate_loan", L, "--liquidated-on", "2026-12-11", "--proceeds", "1.001")
    # Regression: the option was not named, and a comma anywhere was deleted ("1,0,0.00" read as 100.00).
    with pytest.raises(CommandError, match="^--costs: '1,0,0.00' is not an amount in dollars: commas must separate"):
        call_command("liquidate_loan", L, "--liquidated-on", "2026-12-11", "--proceeds", "1", "--costs", "1,0,0.00")
