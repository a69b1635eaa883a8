"""A deal across PSA speeds: each class's WAL, first and final period and yield, and the PAC band test."""
from dataclasses import replace
from decimal import Decimal

import pytest

from analytics.domain.deal_projection import Deal, project
from analytics.domain.prepayment import constant
from analytics.domain.speed_grid import BandTest, band_tests, grid_text, speed_grid
from analytics.domain.textbook_deals import textbook_deal
from remittance.domain.waterfall import ClassState
from trusts.domain.deal_structure import IO, ClassFeatures, DealStructure

SPEEDS = [Decimal(0), Decimal(165), Decimal(400)]


@pytest.fixture(scope="module")
def fjf_01():
    deal = textbook_deal("FJF-01")
    return deal, speed_grid(deal, SPEEDS)


def test_each_speed_is_the_deals_own_projection(fjf_01):
    deal, grid = fjf_01
    assert grid.speeds == tuple(SPEEDS) and grid.class_names == ("A", "B", "C", "D")
    projection = project(deal, constant("psa", 165))
    assert grid.collateral_wal_years[Decimal(165)] == projection.collateral_wal_years
    for name in grid.class_names:
        ours = grid.classes[Decimal(165)][name]
        assert ours.wal_years == projection.classes[name].wal_years
        assert ours.final_period == projection.classes[name].final_period
        assert ours.yield_percent == projection.classes[name].yield_percent


def test_sequential_classes_take_principal_one_after_another(fjf_01):
    _deal, grid = fjf_01
    for speed in grid.speeds:
        classes = [grid.classes[speed][n] for n in grid.class_names]
        assert classes[0].first_period == 1
        for ahead, behind in zip(classes, classes[1:]):
            # A month's principal may cross a class boundary: the next class starts in the month the last ends.
            assert behind.first_period == ahead.final_period
            assert ahead.wal_years < behind.wal_years
    assert [grid.wal(s, "A") for s in grid.speeds] == sorted((grid.wal(s, "A") for s in grid.speeds), reverse=True)


def test_yields_are_at_par_unless_a_price_is_given(fjf_01):
    deal, grid = fjf_01
    # 7.5% paid monthly is 7.618% bond-equivalent, at any speed, for a class bought at par.
    assert {round(c.yield_percent, 3) for by in grid.classes.values() for c in by.values()} == {7.618}
    discount = speed_grid(deal, [Decimal(165)], price=95.0)
    assert all(c.yield_percent > 7.618 for c in discount.classes[Decimal(165)].values())


def test_a_deal_without_a_pac_has_no_band_test(fjf_01):
    deal, grid = fjf_01
    assert band_tests(deal, grid) == []


def test_the_band_test_adds_the_bands_own_speeds():
    deal = textbook_deal("FJF-04")
    grid = speed_grid(deal, [Decimal(165), Decimal(500)])
    [test] = band_tests(deal, grid)
    assert list(test.inside) == [Decimal(90), Decimal(165), Decimal(300)] and list(test.outside) == [Decimal(500)]
    assert test.inside[Decimal(165)] == grid.wal(Decimal(165), "P")


@pytest.mark.parametrize(("inside", "outside", "flat", "varies"), [
    ({90: 7.261, 300: 7.259}, {400: 6.1}, True, True),
    ({90: 7.261, 300: 7.249}, {400: 6.1}, False, True),
    ({90: 7.26, 300: 7.26}, {400: 7.2601}, True, False),
    ({90: None, 300: 7.26}, {}, False, True),
])
def test_flat_is_equal_to_two_decimals_inside_and_varies_is_another_wal_outside(inside, outside, flat, varies):
    test = BandTest(class_name="P", band=(Decimal(90), Decimal(300)),
                    inside={Decimal(s): w for s, w in inside.items()}, outside={Decimal(s): w for s, w in outside.items()})
    assert (test.flat, test.varies_outside) == (flat, varies)


def test_the_text_shows_every_class_at_every_speed_and_the_band_test():
    deal = textbook_deal("FJF-04")
    grid = speed_grid(deal, [Decimal(165)])
    text = grid_text(grid, band_tests(deal, grid))
    assert "class P" in text and "class S" in text and "band test, PAC P (90-300 PSA)" in text
    assert f"{grid.wal(Decimal(165), 'P'):.2f}" in text


def test_no_speed_nor_a_price_for_no_class_is_accepted(fjf_01):
    with pytest.raises(ValueError, match="at least one PSA speed"):
        speed_grid(fjf_01[0], [])
    with pytest.raises(ValueError, match="a price is given for Q, not a class of the deal"):
        speed_grid(fjf_01[0], [Decimal(165)], prices={"Q": 99.0})


def _with_io() -> Deal:
    """FJF-01 with A at 7% and an IO strip X of the other 0.5% on A's balance."""
    deal = textbook_deal("FJF-01")
    a = replace(deal.structure.classes[0], coupon=Decimal("7"))
    io = ClassState(name="X", balance_cents=a.balance_cents, coupon=Decimal("0.5"), principal_rule="sequential",
                    priority=5)
    structure = replace(deal.structure, classes=(a, *deal.structure.classes[1:], io),
                        original_faces={**deal.structure.original_faces, "X": a.balance_cents},
                        deal=DealStructure(features={"X": ClassFeatures(kind=IO, notional_of=("A",))}))
    return Deal(replines=deal.replines, structure=structure)


def test_an_io_is_measured_by_its_notionals_paydown_and_has_a_yield_only_at_a_price_given():
    deal = _with_io()
    grid = speed_grid(deal, [Decimal(165)])
    io, a = grid.classes[Decimal(165)]["X"], grid.classes[Decimal(165)]["A"]
    # X's notional is A's balance: it pays down exactly as A does.
    assert (io.first_period, io.final_period) == (a.first_period, a.final_period)
    assert io.wal_years == pytest.approx(a.wal_years, abs=1e-12)
    assert io.yield_percent is None
    priced = speed_grid(deal, [Decimal(165)], prices={"X": 1.0}).classes[Decimal(165)]["X"]
    assert priced.yield_percent is not None and priced.yield_percent > 0
    months = project(deal, constant("psa", 165)).months
    assert all(m.waterfall.for_class("X").interest_paid_cents > 0 for m in months[:80])  # A's 81 months
