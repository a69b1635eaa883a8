"""The waterfall's class kinds and trustee fee, to the cent: trustee fee, IO, accrual (Z), PAC/support, NAS."""
from __future__ import annotations

from decimal import Decimal

import pytest

from remittance.domain.waterfall import (
    ClassState,
    DealState,
    Fees,
    PeriodCollections,
    WaterfallError,
    carried_forward,
    run_waterfall,
)
from trusts.domain.deal_structure import ClassFeatures, DealStructure, LockoutStep

NO_FEES = Fees(servicing_fee_cents=0, issuer_spread_cents=0)


def cls(name: str, priority: int, balance: int, coupon: str | None = "4", **features) -> ClassState:
    return ClassState(
        name=name, balance_cents=balance, coupon=None if coupon is None else Decimal(coupon), priority=priority,
        principal_rule="pro-rata", features=ClassFeatures(**features) if features else ClassFeatures(),
    )


def money(interest: int, principal: int = 0, loss: int = 0) -> PeriodCollections:
    return PeriodCollections(interest_collected_cents=interest, principal_collected_cents=principal,
                             realized_loss_cents=loss)


# ------------------------------------------------------------ trustee fee

TRUSTEE = DealStructure(steps=("trustee_fee", "servicing_fee", "spread", "interest", "principal", "losses", "excess"),
                        trustee_fee_rate=Decimal("0.1"))
TRUSTEE_FEES = Fees(servicing_fee_cents=50_000, issuer_spread_cents=50_000, trustee_fee_cents=8_333,
                    trustee_fee_shortfall_carried_cents=1_000)


def test_the_trustee_fee_with_its_carried_shortfall_comes_first():
    result = run_waterfall(collections=money(500_000), fees=TRUSTEE_FEES, classes=[cls("A", 1, 100_000_000, None)],
                           structure=TRUSTEE)
    assert (result.trustee_fee_due_cents, result.trustee_fee_paid_cents, result.trustee_fee_shortfall_cents) == (
        9_333, 9_333, 0)
    assert result.for_class("A").interest_paid_cents == 500_000 - 9_333 - 100_000


def test_a_short_month_leaves_the_trustee_fee_short_and_nothing_for_the_others():
    result = run_waterfall(collections=money(5_000), fees=TRUSTEE_FEES, classes=[cls("A", 1, 100_000_000, None)],
                           structure=TRUSTEE)
    assert (result.trustee_fee_paid_cents, result.trustee_fee_shortfall_cents) == (5_000, 4_333)
    assert (result.fee_paid_cents, result.spread_paid_cents, result.fee_shortfall_cents) == (0, 0, 50_000)


def test_a_trustee_fee_rate_without_its_step_is_refused_naming_the_step():
    with pytest.raises(WaterfallError, match="trustee_fee"):
        run_waterfall(collections=money(5_000), fees=NO_FEES, classes=[cls("A", 1, 100)],
                      structure=DealStructure(trustee_fee_rate=Decimal("0.1")))


# --------------------------------------------------------------------- IO


def io_deal(notional_of: tuple[str, ...] = ("A",)) -> list[ClassState]:
    return [cls("A", 1, 60_000_000), cls("B", 2, 40_000_000, "5"),
            cls("X", 1, 0, "1", kind="io", notional_of=notional_of)]


def test_an_io_class_is_paid_interest_on_its_notional_and_never_principal():
    classes = io_deal()
    result = run_waterfall(collections=money(500_000, 100_000), fees=NO_FEES, classes=classes)
    x = result.for_class("X")
    assert (x.kind, x.balance_begin_cents, x.interest_paid_cents, x.principal_paid_cents, x.balance_end_cents) == (
        "io", 60_000_000, 50_000, 0, 59_900_000)
    assert result.for_class("A").interest_paid_cents == 200_000
    assert result.for_class("B").interest_paid_cents == 166_667
    assert result.for_class("A").principal_paid_cents == 100_000
    assert result.excess_interest_cents == 500_000 - 200_000 - 50_000 - 166_667
    # The IO carries its notional at the end into the next period.
    assert {s.name: s.balance_cents for s in carried_forward(classes=classes, result=result)}["X"] == 59_900_000


def test_an_io_short_of_interest_shares_its_group_by_amount_due_and_carries_the_rest():
    result = run_waterfall(collections=money(125_000), fees=NO_FEES, classes=io_deal())
    # A and X share priority 1: dues 200,000 and 50,000, 125,000 to pay -> half each.
    assert result.for_class("A").interest_paid_cents == 100_000
    x = result.for_class("X")
    assert (x.interest_paid_cents, x.interest_shortfall_carried_cents) == (25_000, 25_000)


def test_an_io_on_the_pool_follows_the_pools_balance_and_is_never_written_down():
    state = DealState(pool_balance_begin_cents=100_000_000, pool_balance_end_cents=99_400_000)
    result = run_waterfall(collections=money(500_000, 100_000, 500_000), fees=NO_FEES, classes=io_deal(("pool",)),
                           state=state)
    x = result.for_class("X")
    assert (x.balance_begin_cents, x.interest_due_cents, x.loss_written_off_cents, x.balance_end_cents) == (
        100_000_000, 83_333, 0, 99_400_000)
    assert result.for_class("B").loss_written_off_cents == 500_000


# -------------------------------------------------------------- accrual (Z)


def z_deal(a_balance: int = 10_000_000) -> list[ClassState]:
    return [cls("A", 1, a_balance, "6"), cls("Z", 2, 5_000_000, "6", kind="accrual")]


def test_a_z_accrues_its_interest_and_its_cash_pays_the_class_ahead():
    result = run_waterfall(collections=money(100_000, 20_000), fees=NO_FEES, classes=z_deal())
    z = result.for_class("Z")
    assert (z.interest_due_cents, z.interest_paid_cents, z.interest_accrued_cents, z.principal_paid_cents) == (
        25_000, 0, 25_000, 0)
    assert z.balance_end_cents == 5_025_000
    assert result.accrual_cents == 25_000
    assert result.for_class("A").principal_paid_cents == 20_000 + 25_000
    assert result.excess_interest_cents == 100_000 - 50_000 - 25_000


def test_a_z_short_of_interest_accrues_what_was_paid_and_carries_the_rest():
    result = run_waterfall(collections=money(60_000), fees=NO_FEES, classes=z_deal())
    z = result.for_class("Z")
    assert (z.interest_accrued_cents, z.interest_shortfall_carried_cents, z.balance_end_cents) == (
        10_000, 15_000, 5_010_000)
    assert result.for_class("A").principal_paid_cents == 10_000


def test_what_the_classes_ahead_cannot_take_pays_the_z_then_it_is_paid_cash():
    classes = z_deal(a_balance=30_000)
    first = run_waterfall(collections=money(100_000, 20_000), fees=NO_FEES, classes=classes)
    # Accrual 25,000 retires A but 5,000 of it; principal 20,000 pays A's 5,000 and Z 15,000.
    assert first.for_class("A").principal_paid_cents == 30_000
    z = first.for_class("Z")
    assert (z.interest_accrued_cents, z.principal_paid_cents, z.balance_end_cents) == (25_000, 15_000, 5_010_000)
    second = run_waterfall(collections=money(100_000), fees=NO_FEES,
                           classes=carried_forward(classes=classes, result=first))
    z2 = second.for_class("Z")
    assert (z2.interest_paid_cents, z2.interest_accrued_cents, z2.balance_end_cents) == (25_050, 0, 5_010_000)
    assert second.accrual_cents == 0


def test_a_z_with_nothing_ahead_of_it_is_refused_naming_the_class():
    with pytest.raises(WaterfallError, match="class Z: an accrual class needs a class ahead"):
        run_waterfall(collections=money(1), fees=NO_FEES, classes=[cls("Z", 1, 100, "6", kind="accrual")])


# ------------------------------------------------------------- PAC / support


def pac_deal(support: int = 5_000_000, pac: int = 10_000_000) -> list[ClassState]:
    return [cls("P", 1, pac, kind="pac", schedule=(9_900_000, 9_700_000)), cls("S", 2, support, kind="support")]


def test_a_pac_takes_its_schedule_and_the_support_class_the_rest():
    result = run_waterfall(collections=money(0, 300_000), fees=NO_FEES, classes=pac_deal())
    assert (result.for_class("P").principal_paid_cents, result.for_class("S").principal_paid_cents) == (
        100_000, 200_000)
    assert result.for_class("P").kind == "pac"


def test_a_pac_behind_schedule_catches_up_first():
    result = run_waterfall(collections=money(0, 150_000), fees=NO_FEES, classes=pac_deal(),
                           state=DealState(period_number=2))
    # Scheduled at 9,700,000 after period 2: 300,000 is due, only 150,000 came in.
    assert (result.for_class("P").principal_paid_cents, result.for_class("S").principal_paid_cents) == (150_000, 0)


def test_a_busted_pac_takes_what_the_support_class_cannot():
    result = run_waterfall(collections=money(0, 300_000), fees=NO_FEES, classes=pac_deal(support=100_000))
    assert (result.for_class("P").principal_paid_cents, result.for_class("S").principal_paid_cents) == (
        200_000, 100_000)


def test_after_its_schedule_a_pac_is_scheduled_at_zero():
    result = run_waterfall(collections=money(0, 300_000), fees=NO_FEES, classes=pac_deal(pac=250_000),
                           state=DealState(period_number=3))
    assert (result.for_class("P").principal_paid_cents, result.for_class("S").principal_paid_cents) == (
        250_000, 50_000)


# -------------------------------------------------------------------- NAS

LOCKOUT = (LockoutStep(through_period=3, percent=Decimal(0)), LockoutStep(through_period=6, percent=Decimal("45.5")))


def nas_deal() -> list[ClassState]:
    return [cls("A", 1, 8_000_000), cls("N", 2, 2_000_000, kind="nas", lockout=LOCKOUT)]


@pytest.mark.parametrize(("period", "nas_paid"), [
    (1, 0),  # locked out
    (5, 9_100),  # floor(100,000 x 2/10 x 45.5%)
    (7, 20_000),  # its full pro-rata share
])
def test_a_nas_class_takes_its_lockout_share_and_the_rest_goes_by_priority(period, nas_paid):
    result = run_waterfall(collections=money(0, 100_000), fees=NO_FEES, classes=nas_deal(),
                           state=DealState(period_number=period))
    assert result.for_class("N").principal_paid_cents == nas_paid
    assert result.for_class("A").principal_paid_cents == 100_000 - nas_paid


def test_a_nas_class_takes_what_is_left_once_the_others_are_retired():
    classes = [cls("A", 1, 30_000), cls("N", 2, 2_000_000, kind="nas", lockout=LOCKOUT)]
    result = run_waterfall(collections=money(0, 100_000), fees=NO_FEES, classes=classes)
    assert (result.for_class("A").principal_paid_cents, result.for_class("N").principal_paid_cents) == (
        30_000, 70_000)


def test_accrual_cash_no_class_can_take_goes_to_excess_principal():
    # Losses run before principal (the deal said so) and take the whole of A and Z: the accrual has nowhere to go.
    structure = DealStructure(steps=("servicing_fee", "spread", "interest", "losses", "principal", "excess"))
    result = run_waterfall(collections=money(100_000, 0, 15_025_000), fees=NO_FEES, classes=z_deal(),
                           structure=structure)
    assert (result.accrual_cents, result.excess_principal_cents) == (25_000, 25_000)
    assert result.for_class("Z").loss_written_off_cents == 5_025_000


def test_in_the_calls_period_a_z_is_paid_cash_not_accreted():
    result = run_waterfall(collections=money(100_000, 20_000), fees=NO_FEES, classes=z_deal(),
                           state=DealState(call_exercised=True))
    z = result.for_class("Z")
    assert (z.interest_paid_cents, z.interest_accrued_cents, z.loss_written_off_cents, result.accrual_cents) == (
        25_000, 0, 5_000_000, 0)
