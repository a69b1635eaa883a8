"""MDR, CDR and the SDA curve; no defaults in the last months before maturity."""
import pytest

from analytics.domain.defaults import (
    DefaultScenario,
    cdr_to_mdr,
    default_scenario,
    monthly_mdr,
    sda_cdr,
)


def test_the_sda_curve_rises_to_a_peak_holds_declines_and_holds_a_tail():
    points = {1: 0.02, 15: 0.30, 30: 0.60, 31: 0.60, 60: 0.60, 61: 0.5905, 90: 0.315, 119: 0.0395, 120: 0.03,
              121: 0.03, 360: 0.03}
    for month, cdr in points.items():
        assert sda_cdr(100, month) == pytest.approx(cdr), month
    assert sda_cdr(200, 30) == pytest.approx(1.2)
    assert sda_cdr(0, 45) == 0


def test_mdr_is_to_cdr_as_smm_is_to_cpr():
    assert cdr_to_mdr(12) == pytest.approx(100 * (1 - 0.88 ** (1 / 12)))


def test_no_new_defaults_in_the_last_lag_months_before_maturity():
    scenario = default_scenario("cdr", [6], severity=30, lag=12, advance=True)
    rates = monthly_mdr(scenario, age=0, months=24, remaining_term=24)
    assert all(r > 0 for r in rates[:12]) and rates[12:] == [0.0] * 12
    sda = monthly_mdr(default_scenario("sda", [100], severity=30, lag=0, advance=False), age=59, months=2,
                      remaining_term=300)
    assert sda == pytest.approx([cdr_to_mdr(0.6) / 100, cdr_to_mdr(0.5905) / 100])


@pytest.mark.parametrize(("changes", "message"), [
    ({"severity": 100.5}, "severity"), ({"severity": -1}, "severity"), ({"lag": -1}, "lag"),
    ({"rates": (-0.5,)}, "negative"), ({"kind": "xyz"}, "kind"), ({"rates": (150.0,)}, "exceed"),
])
def test_impossible_default_scenarios_are_refused(changes, message):
    terms = {"kind": "cdr", "rates": (1.0,), "severity": 40.0, "lag": 6, "advance": True, **changes}
    with pytest.raises(ValueError, match=message):
        DefaultScenario(**terms)
