"""Realized speeds: a projection's own factors give back the speed it was projected at."""
from decimal import Decimal

import pytest

from analytics.domain.collateral import Repline, amortized_balance, project_repline
from analytics.domain.prepayment import constant
from analytics.domain.realized import (
    PoolHistory,
    average_speeds,
    one_month_speeds,
    speeds_from_balances,
)


@pytest.fixture(scope="module")
def projected():
    pool = Repline(name="P", balance=1.0, gross_wac=Decimal("7.25"), net_wac=Decimal("6.75"), term=360, age=4)
    return project_repline(pool, constant("psa", 175))


@pytest.mark.parametrize("k", [1, 10, 26, 27, 40, 200])
def test_one_month_speeds_from_the_factors_give_back_the_projected_psa(projected, k):
    month = projected[k - 1]
    speeds = one_month_speeds(factor_begin=month.balance_begin, factor_end=month.balance_end,
                              bal_begin=amortized_balance(7.25, 360, 4 + k - 1),
                              bal_end=amortized_balance(7.25, 360, 4 + k), loan_month=4 + k)
    assert speeds.psa == pytest.approx(175)
    assert speeds.smm / 100 == pytest.approx(month.smm)


def test_the_average_psa_over_months_of_different_ages_is_found_by_iteration(projected):
    history = PoolHistory(balance_begin=1.0, balance_end=projected[11].balance_end, gross_wac=7.25,
                          remaining_term=356, age=4)
    speeds = average_speeds([history], months=12)
    assert speeds.psa == pytest.approx(175, abs=1e-6)
    survived = projected[11].balance_end / (amortized_balance(7.25, 360, 16) / amortized_balance(7.25, 360, 4))
    assert speeds.cpr == pytest.approx(100 * (1 - survived))


def test_paying_less_than_scheduled_shows_as_a_negative_rate():
    speeds = speeds_from_balances(actual_end=1010.0, scheduled_end=1000.0, loan_month=40)
    assert speeds.smm < 0 and speeds.cpr < 0 and speeds.psa < 0


def test_nothing_left_to_prepay_is_a_zero_rate():
    assert speeds_from_balances(actual_end=0.0, scheduled_end=0.0, loan_month=3).smm == 0.0
    assert speeds_from_balances(actual_end=90.0, scheduled_end=100.0, months=3).psa is None
