"""Voluntary prepayment and default rates (SIFMA SF C.3) on constructed pools, by hand and by property."""
import pytest
from hypothesis import given, strategies as st

from remittance.domain.speeds import MonthActivity, period_split, psa_from_cpr, smm_to_cpr, window_split


def month(scheduled=100_000_000, voluntary=0, defaulted=0, loss=0):
    return MonthActivity(scheduled_end_cents=scheduled, voluntary_cents=voluntary, defaulted_cents=defaulted,
                         loss_cents=loss)


def test_a_liquidation_alone_is_a_default_not_a_prepayment():
    # $1,000,000 left after the schedule; a $20,000 loan liquidated for $12,000 with $8,000 lost.
    split = period_split(month(defaulted=2_000_000, loss=800_000), loan_month=10)
    assert split.smm == 0 and split.cpr == 0 and split.psa == 0
    assert split.mdr == pytest.approx(2.0)
    assert split.cdr == pytest.approx(100 * (1 - 0.98 ** 12))  # 21.5285...
    assert split.cdr == pytest.approx(21.528328, abs=1e-6)  # 0.98^12 = 0.7847167
    assert split.severity == pytest.approx(40.0)


def test_voluntary_prepayments_are_measured_on_what_survived_default():
    # MDR 2%, then $9,800 of curtailments and payoffs on the $980,000 that survived: SMM 1%.
    split = period_split(month(voluntary=980_000, defaulted=2_000_000, loss=800_000), loan_month=30)
    assert split.smm == pytest.approx(1.0)
    assert split.cpr == pytest.approx(100 * (1 - 0.99 ** 12))  # 11.3615...
    assert split.cpr == pytest.approx(11.361513, abs=1e-6)  # 0.99^12 = 0.8863849
    assert split.psa == pytest.approx(psa_from_cpr(split.cpr, 30))  # 6% CPR at month 30 is 100% PSA
    assert split.psa == pytest.approx(100 * 11.361513 / 6, abs=1e-4)


def test_a_month_without_default_has_no_severity_and_a_paid_down_pool_rates_zero():
    assert period_split(month(voluntary=500_000)).severity is None
    assert period_split(month(voluntary=500_000)).psa is None  # no loan age given
    assert period_split(month(scheduled=0)) == period_split(month(scheduled=0, voluntary=0))
    assert period_split(month(scheduled=0)).smm == 0 and period_split(month(scheduled=0)).mdr == 0


def test_a_window_is_the_geometric_mean_of_its_months_and_severity_its_loss_over_its_defaults():
    months = [month(voluntary=1_000_000), month(), month(defaulted=1_000_000, loss=250_000)]
    window = window_split(months)
    assert window.smm == pytest.approx(100 * (1 - 0.99 ** (1 / 3)))
    assert window.mdr == pytest.approx(100 * (1 - 0.99 ** (1 / 3)))
    assert window.cpr == pytest.approx(smm_to_cpr(window.smm)) and window.cdr == pytest.approx(smm_to_cpr(window.mdr))
    assert window.severity == pytest.approx(25.0) and window.psa is None
    assert window_split([]) is None


cents = st.integers(min_value=0, max_value=10**9)


@given(scheduled=st.integers(min_value=1, max_value=10**11), share=st.fractions(0, 1), vshare=st.fractions(0, 1),
       lshare=st.fractions(0, 1), repeat=st.integers(min_value=1, max_value=24))
def test_a_window_of_identical_months_states_the_months_own_rates(scheduled, share, vshare, lshare, repeat):
    defaulted = int(scheduled * share)
    voluntary = int((scheduled - defaulted) * vshare)
    one = month(scheduled=scheduled, voluntary=voluntary, defaulted=defaulted, loss=int(defaulted * lshare))
    split, window = period_split(one), window_split([one] * repeat)
    assert 0 <= split.smm <= 100 and 0 <= split.mdr <= 100
    assert window.smm == pytest.approx(split.smm, abs=1e-9) and window.mdr == pytest.approx(split.mdr, abs=1e-9)
    assert (window.severity is None) == (split.severity is None)
    if split.severity is not None:
        assert window.severity == pytest.approx(split.severity)
