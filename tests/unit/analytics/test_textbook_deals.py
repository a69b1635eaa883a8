"""Fabozzi's FJF deals through our projection (analytics.domain.textbook_deals): the book's figures our code
reproduces to the book's precision, asserted; the sequential tables, reproduced when measured from a
settlement five days into the first month (README, "the textbook deals").

Every figure is computed here through the real projection; the book's figures are the module's.
"""
from decimal import Decimal

import pytest

from analytics.domain import measures
from analytics.domain.collateral import project_repline
from analytics.domain.deal_projection import project
from analytics.domain.pac_schedule import band_minimum
from analytics.domain.prepayment import constant
from analytics.domain.speed_grid import band_tests, speed_grid
from analytics.domain.textbook_deals import (
    BALANCE_CENTS, BOOK_COLLATERAL_165, BOOK_FJF_01_WAL, BOOK_PAC_WAL, BOOK_SEQUENTIAL_SETTLEMENT_DAYS, BOOK_SPEED,
    BOOK_WAL_165, PAC_BAND, PAC_FACE_CENTS, collateral, textbook_deal,
)

# Unsettled, our sequential classes' WALs stand 0.0137-0.0140 years above the book's: 5/360 of a year.
GAP_LOW, GAP_HIGH = 0.0137 - 0.005, 0.0140 + 0.005


def wals(deal_code: str, names: list[str], speed: Decimal | int = BOOK_SPEED,
         settlement_days: int = 0) -> list[float]:
    """Average lives through the real projection, measured from `settlement_days` into the first month."""
    months = project(textbook_deal(deal_code), constant("psa", float(speed))).months
    times = measures.payment_times(len(months), days_after_start=settlement_days)
    principal = {"collateral": [m.total("principal_cents") for m in months]}
    for name in names:
        if name != "collateral":
            principal[name] = [m.waterfall.for_class(name).principal_paid_cents for m in months]
    return [measures.average_life(principal[n], times) for n in names]


def wal(deal_code: str, name: str, speed: Decimal | int = BOOK_SPEED) -> float:
    return wals(deal_code, [name], speed)[0]


def test_the_pass_through_pays_the_books_monthly_cash_flow_to_the_dollar():
    months = project_repline(collateral(), constant("psa", float(BOOK_SPEED)))
    assert len(months) == 357
    for month, book in BOOK_COLLATERAL_165.items():
        m = months[month - 1]
        ours = {"balance_begin": m.balance_begin, "payment": m.scheduled_principal + m.gross_interest,
                "interest_net": m.net_interest, "scheduled_principal": m.scheduled_principal,
                "prepayment": m.voluntary_prepayments}
        assert {k: round(ours[k]) for k in book} == book, f"month {month}"


def test_the_band_supports_the_books_pac_face():
    # The book gives P as $243.8 million: the 90-300 PSA minimum is $243.897 million, so the book cut it down.
    supported = sum(band_minimum((collateral(),), *PAC_BAND))
    assert supported // 10_000_000 == PAC_FACE_CENTS // 10_000_000  # $243.8M, to the book's $0.1M
    assert BALANCE_CENTS - PAC_FACE_CENTS == 156_200_000_00


def test_the_pac_average_life_is_the_books_and_flat_across_its_band():
    deal = textbook_deal("FJF-04")
    grid = speed_grid(deal, [0, 50, 90, 100, 165, 200, 250, 300, 400, 500])
    [test] = band_tests(deal, grid)
    assert test.flat and test.varies_outside
    assert f"{test.band_wal:.2f}" == f"{BOOK_WAL_165['FJF-04']['P']:f}"
    # Outside the band the support cannot hold the schedule: slower lengthens, faster shortens the PAC.
    assert grid.wal(Decimal(50), "P") > test.band_wal > grid.wal(Decimal(400), "P")


@pytest.mark.parametrize("speed", sorted(BOOK_PAC_WAL))
def test_the_pac_table_is_the_books_to_two_decimals(speed):
    assert f"{wal('FJF-04', 'P', speed):.2f}" == f"{BOOK_PAC_WAL[speed]:f}"


NAMES_01 = ["collateral", "A", "B", "C", "D"]


@pytest.mark.parametrize("speed", sorted(BOOK_FJF_01_WAL))
def test_fjf_01_sequential_table_is_the_books_measured_from_the_fifth_day(speed):
    settled = wals("FJF-01", NAMES_01, speed, settlement_days=BOOK_SEQUENTIAL_SETTLEMENT_DAYS)
    assert [f"{w:.2f}" for w in settled] == [f"{b:f}" for b in BOOK_FJF_01_WAL[speed]]
    # Unsettled, every figure stands the same 5/360 of a year above the book's.
    for ours, book in zip(wals("FJF-01", NAMES_01, speed), BOOK_FJF_01_WAL[speed]):
        assert GAP_LOW <= ours - float(book) <= GAP_HIGH


def test_fjf_02_classes_ahead_of_the_z_are_the_books_measured_from_the_fifth_day():
    names = ["A", "B", "C"]
    settled = wals("FJF-02", names, settlement_days=BOOK_SEQUENTIAL_SETTLEMENT_DAYS)
    assert [f"{w:.2f}" for w in settled] == [f"{BOOK_WAL_165['FJF-02'][n]:f}" for n in names]
    # The Z's accrual pays them down: each is shorter than in the sequential FJF-01.
    assert all(a < b for a, b in zip(wals("FJF-02", names), wals("FJF-01", names)))


def test_the_z_accretes_until_the_classes_ahead_are_paid_then_is_paid_principal():
    months = project(textbook_deal("FJF-02"), constant("psa", float(BOOK_SPEED))).months
    z = [m.waterfall.for_class("Z") for m in months]
    c = [m.waterfall.for_class("C") for m in months]
    accruing = [k for k, r in enumerate(z) if r.interest_accrued_cents]
    assert accruing == list(range(len(accruing))) and c[accruing[-1]].balance_begin_cents > 0
    assert all(r.principal_paid_cents == 0 for r in z[:accruing[-1]])
    assert z[accruing[-1]].balance_end_cents > 73_000_000_00
    total_paid = sum(r.principal_paid_cents for r in z)
    assert total_paid == 73_000_000_00 + sum(r.interest_accrued_cents for r in z)
