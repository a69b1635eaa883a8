"""SMM, CPR and PSA: conversions, the PSA ramp, vectors, and a seasoned pool starting at age + 1."""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.domain.prepayment import (
    PrepaymentScenario,
    constant,
    cpr_to_smm,
    monthly_smm,
    psa_cpr,
    psa_from_cpr,
    smm_to_cpr,
    vector,
)


def test_cpr_and_smm_are_the_same_rate_compounded_monthly_or_annually():
    assert cpr_to_smm(6) == pytest.approx(100 * (1 - 0.94 ** (1 / 12)))
    assert f"{cpr_to_smm(6):.4f}" == "0.5143"
    assert smm_to_cpr(1) == pytest.approx(100 * (1 - 0.99 ** 12))


@given(st.floats(min_value=0, max_value=99.9))
def test_conversions_round_trip(cpr):
    assert smm_to_cpr(cpr_to_smm(cpr)) == pytest.approx(cpr, abs=1e-9)


def test_the_psa_ramp_rises_point_two_a_month_to_six_percent_at_month_thirty():
    assert [psa_cpr(100, m) for m in (1, 2, 15, 29, 30, 31, 360)] == pytest.approx([0.2, 0.4, 3.0, 5.8, 6, 6, 6])
    assert psa_cpr(100, 0) == 0.2  # "MONTH equals 1 for all prior months"
    assert psa_cpr(250, 10) == pytest.approx(5.0)
    assert psa_cpr(5000, 30) == 100  # a CPR never exceeds 100%
    assert psa_from_cpr(psa_cpr(175, 12), 12) == pytest.approx(175)


def test_a_seasoned_pool_projects_its_first_month_as_loan_age_plus_one():
    smm = monthly_smm(constant("psa", 100), age=10, months=3)
    assert smm == pytest.approx([cpr_to_smm(2.2) / 100, cpr_to_smm(2.4) / 100, cpr_to_smm(2.6) / 100])
    assert monthly_smm(constant("psa", 100), age=40, months=1) == pytest.approx([cpr_to_smm(6) / 100])


def test_a_vector_gives_each_month_its_rate_and_the_last_one_holds():
    assert monthly_smm(vector("smm", [1, 2, 3]), age=0, months=5) == pytest.approx([.01, .02, .03, .03, .03])
    # Read from the projected month it starts in: a loan paying from month 3 takes the vector's third rate.
    assert monthly_smm(vector("smm", [1, 2, 3, 4]), age=0, months=2, start=3) == pytest.approx([.03, .04])
    cpr = monthly_smm(vector("cpr", [0, 12]), age=0, months=2)
    assert cpr[0] == 0 and cpr[1] == pytest.approx(1 - 0.88 ** (1 / 12))


@pytest.mark.parametrize(("kind", "rates", "message"), [
    ("psa", (-1.0,), "negative"), ("cpr", (101.0,), "exceed"), ("smm", (), "at least one"), ("abs", (1.0,), "kind"),
])
def test_impossible_scenarios_are_refused(kind, rates, message):
    with pytest.raises(ValueError, match=message):
        PrepaymentScenario(kind=kind, rates=rates)


def test_a_full_smm_prepays_everything():
    assert math.isclose(monthly_smm(constant("cpr", 100), age=0, months=1)[0], 1.0)
