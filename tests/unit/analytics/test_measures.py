"""WAL, price and yield, durations and convexity against closed forms and their definitions."""
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analytics.domain import measures
from analytics.domain.measures import MeasureError


def test_payment_k_is_received_thirty_k_plus_delay_days_after_settlement():
    assert measures.payment_times(3) == pytest.approx([30 / 360, 60 / 360, 90 / 360])
    assert measures.payment_times(2, delay_days=24) == pytest.approx([54 / 360, 84 / 360])


def test_wal_of_equal_monthly_principal_is_the_middle_month():
    principal = [100.0] * 12
    assert measures.average_life(principal, measures.payment_times(12)) == pytest.approx(6.5 / 12)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=60), st.integers(0, 60))
def test_delay_days_move_wal_by_exactly_the_delay(principal, delay):
    assume(sum(principal) > 1e-3)
    without = measures.average_life(principal, measures.payment_times(len(principal)))
    with_delay = measures.average_life(principal, measures.payment_times(len(principal), delay_days=delay))
    assert with_delay - without == pytest.approx(delay / 360)


def test_a_single_payment_is_priced_by_semiannual_discounting():
    times = [2.5]
    price = measures.price_from_yield([110.0], times, 8.0, balance=100.0)
    assert price == pytest.approx(110 / 1.04 ** 5)
    assert measures.yield_from_price([110.0], times, price, 100.0) == pytest.approx(8.0, abs=1e-10)
    assert measures.macaulay_duration([110.0], times, 8.0) == pytest.approx(2.5)
    assert measures.modified_duration([110.0], times, 8.0) == pytest.approx(2.5 / 1.04)
    assert measures.convexity([110.0], times, 8.0) == pytest.approx(2.5 * 3.0 / 1.04 ** 2)


flows = st.lists(st.floats(min_value=0.01, max_value=1e5), min_size=1, max_size=120)


@settings(max_examples=60)
@given(flows, st.floats(min_value=-5, max_value=40), st.integers(0, 60))
def test_price_and_yield_round_trip(cash, yielded, delay):
    times = measures.payment_times(len(cash), delay_days=delay)
    price = measures.price_from_yield(cash, times, yielded, balance=sum(cash))
    assert measures.yield_from_price(cash, times, price, balance=sum(cash)) == pytest.approx(yielded, abs=1e-7)


@settings(max_examples=40)
@given(flows, st.floats(min_value=0, max_value=20))
def test_modified_duration_and_convexity_are_the_price_derivatives(cash, yielded):
    """P(Y + h) ~ P [1 - D h/100 + C/2 (h/100)^2]: D and C as the standard defines them (G.1 e-g)."""
    times = measures.payment_times(len(cash))
    h = 1e-3
    value = [measures.present_value(cash, times, yielded + d) for d in (-h, 0.0, h)]
    slope = -(value[2] - value[0]) / (2 * h / 100) / value[1]
    curve = (value[2] - 2 * value[1] + value[0]) / (h / 100) ** 2 / value[1]
    assert measures.modified_duration(cash, times, yielded) == pytest.approx(slope, rel=1e-5)
    assert measures.convexity(cash, times, yielded) == pytest.approx(curve, rel=1e-3, abs=1e-6)


def test_final_period_is_the_last_principal_payment():
    assert measures.final_period([0.0, 5.0, 0.0, 3.0, 0.0]) == 4
    assert measures.final_period([0.0, 0.0]) is None
    assert measures.average_life([0.0], [1.0]) is None


@pytest.mark.parametrize(("cash", "price", "message"), [
    ([100.0], 0.0, "positive"), ([0.0], 100.0, "no cash flow"), ([100.0], 1e9, "no yield"),
])
def test_impossible_prices_are_refused(cash, price, message):
    with pytest.raises(MeasureError, match=message):
        measures.yield_from_price(cash, [1.0], price, balance=100.0)
