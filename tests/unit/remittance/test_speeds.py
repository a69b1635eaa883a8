"""Prepayment speeds in remittance: the conversions and the one-month formula, one implementation for both apps."""
import ast
from pathlib import Path

import pytest

import analytics.domain.prepayment
import analytics.domain.realized
from remittance.domain import speeds
from remittance.domain.speeds import (
    Speeds,
    cpr_to_smm,
    percent_text,
    psa_cpr,
    psa_from_cpr,
    smm_to_cpr,
    speeds_from_balances,
)


def test_smm_and_cpr_convert_both_ways():
    assert smm_to_cpr(0.5) == pytest.approx(100 * (1 - 0.995 ** 12))
    assert cpr_to_smm(smm_to_cpr(0.5)) == pytest.approx(0.5)
    assert cpr_to_smm(0) == 0 and smm_to_cpr(100) == 100


@pytest.mark.parametrize(("psa", "month", "cpr"), [(100, 1, 0.2), (100, 15, 3.0), (100, 30, 6.0), (100, 200, 6.0),
                                                   (150, 10, 3.0), (100, 0, 0.2), (5000, 30, 100.0)])
def test_the_psa_ramp(psa, month, cpr):
    assert psa_cpr(psa, month) == pytest.approx(cpr)


def test_psa_from_cpr_inverts_the_ramp():
    assert psa_from_cpr(psa_cpr(175, 12), 12) == pytest.approx(175)
    assert psa_from_cpr(6.0, 45) == pytest.approx(100)


def test_one_month_speeds_from_balances():
    realized = speeds_from_balances(actual_end=99.0, scheduled_end=100.0, loan_month=10)
    assert realized.smm == pytest.approx(1.0)
    assert realized.cpr == pytest.approx(smm_to_cpr(1.0))
    assert realized.psa == pytest.approx(psa_from_cpr(realized.cpr, 10))


def test_a_missed_payment_is_a_negative_rate_and_no_age_means_no_psa():
    realized = speeds_from_balances(actual_end=101.0, scheduled_end=100.0)
    assert realized.smm == pytest.approx(-1.0) and realized.psa is None


def test_nothing_scheduled_to_remain_prepays_nothing():
    assert speeds_from_balances(actual_end=0, scheduled_end=0, loan_month=3) == Speeds(0.0, 0.0, 0.0)


def test_percent_text_has_six_decimals():
    assert percent_text(0.5123454) == "0.512345"
    assert percent_text(-1.25) == "-1.250000"
    assert percent_text(None) is None


def test_analytics_uses_the_same_functions():
    for name in ("cpr_to_smm", "smm_to_cpr", "psa_cpr", "psa_from_cpr", "PSA_RAMP_MONTHS", "PSA_STEP_CPR"):
        assert getattr(analytics.domain.prepayment, name) is getattr(speeds, name)
    assert analytics.domain.realized.Speeds is Speeds
    assert analytics.domain.realized.speeds_from_balances is speeds_from_balances


def test_the_module_is_pure():
    """No database and no analytics: remittance sits below analytics in the import direction."""
    tree = ast.parse(Path(speeds.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {"__future__", "dataclasses"}
