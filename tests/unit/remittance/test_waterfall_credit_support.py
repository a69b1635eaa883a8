"""The waterfall's credit support, to the cent: triggers, over-collateralisation, reserve account, clean-up call."""
from __future__ import annotations

from decimal import Decimal

import pytest

from remittance.domain.credit_support import oc_target_cents, trigger_status
from remittance.domain.waterfall import (
    STANDARD_STEPS,
    ClassState,
    DealState,
    Fees,
    PayTurbo,
    PeriodCollections,
    WaterfallError,
    run_waterfall,
)
from trusts.domain.deal_structure import (
    ClassFeatures,
    DealStructure,
    LossLimit,
    Overcollateralization,
    ReserveAccount,
    Triggers,
)

NO_FEES = Fees(servicing_fee_cents=0, issuer_spread_cents=0)
CUTOFF = 100_000_000


def cls(name: str, priority: int, balance: int, coupon: str = "4", **features) -> ClassState:
    return ClassState(name=name, balance_cents=balance, coupon=Decimal(coupon), priority=priority,
                      features=ClassFeatures(**features) if features else ClassFeatures())


def money(interest: int, principal: int = 0, loss: int = 0) -> PeriodCollections:
    return PeriodCollections(interest_collected_cents=interest, principal_collected_cents=principal,
                             realized_loss_cents=loss)


# ---------------------------------------------------------------- triggers

TRIGGERS = Triggers(stepdown_period=3, cumulative_loss=(LossLimit(from_period=1, percent=Decimal(1)),),
                    delinquency_60_percent=Decimal(10))
TRIGGERED = DealStructure(triggers=TRIGGERS)
AB = [cls("A", 1, 60_000_000), cls("B", 2, 40_000_000)]


def triggered(period: int, *, loss_before: int = 0, loss: int = 0, d60: int = 0, failed_before: bool = False):
    state = DealState(period_number=period, cutoff_balance_cents=CUTOFF, pool_balance_begin_cents=100_000_000,
                      pool_balance_end_cents=99_900_000, cumulative_loss_before_cents=loss_before,
                      delinquent_60_cents=d60, trigger_failed=failed_before)
    return run_waterfall(collections=money(1_000_000, 100_000, loss), fees=NO_FEES, classes=AB,
                         structure=TRIGGERED, state=state)


def principal(result) -> tuple[int, int]:
    return result.for_class("A").principal_paid_cents, result.for_class("B").principal_paid_cents


def test_before_the_stepdown_principal_is_sequential():
    result = triggered(2)
    assert principal(result) == (100_000, 0)
    assert (result.triggers.stepdown_reached, result.triggers.principal_rule) == (False, "sequential")


def test_after_the_stepdown_with_triggers_passing_principal_is_pro_rata():
    result = triggered(3)
    assert principal(result) == (60_000, 40_000)
    assert (result.triggers.failed, result.triggers.in_effect, result.triggers.principal_rule) == (
        False, False, "pro-rata")


def test_a_delinquency_exactly_at_its_limit_passes_and_one_cent_above_fails():
    at = triggered(3, d60=9_990_000)
    assert (at.triggers.delinquency_60_percent, at.triggers.failed, principal(at)) == (
        Decimal(10), False, (60_000, 40_000))
    above = triggered(3, d60=9_990_001)
    assert (above.triggers.failed, above.triggers.principal_rule, principal(above)) == (
        True, "sequential", (100_000, 0))


def test_cumulative_loss_counts_this_periods_loss_against_the_cutoff():
    at = triggered(3, loss_before=999_999, loss=1)
    assert (at.triggers.cumulative_loss_percent, at.triggers.failed) == (Decimal(1), False)
    above = triggered(3, loss_before=999_999, loss=2)
    assert (above.triggers.cumulative_loss_limit, above.triggers.failed) == (Decimal(1), True)
    assert above.for_class("B").loss_written_off_cents == 2


def test_a_sticky_failure_keeps_principal_sequential_and_a_non_sticky_one_does_not():
    sticky = triggered(4, failed_before=True)
    assert (sticky.triggers.failed, sticky.triggers.in_effect, principal(sticky)) == (False, True, (100_000, 0))
    loose = trigger_status(Triggers(stepdown_period=3, delinquency_60_percent=Decimal(10), sticky=False),
                           period_number=4, cutoff_balance_cents=CUTOFF, cumulative_loss_cents=0,
                           pool_balance_end_cents=CUTOFF, delinquent_60_cents=0, delinquent_90_cents=0,
                           failed_before=True)
    assert (loose.in_effect, loose.principal_rule) == (False, "pro-rata")


def test_no_triggers_no_status():
    assert run_waterfall(collections=money(1, 1), fees=NO_FEES, classes=AB).triggers is None


# ------------------------------------------------- over-collateralisation

OC = Overcollateralization(target_percent=Decimal(10), stepdown_target_percent=Decimal(10))
OC_STEPS = ("servicing_fee", "spread", "interest", "principal", "losses", "turbo", "excess")
OC_DEAL = DealStructure(steps=OC_STEPS, overcollateralization=OC)


def oc_run(a_balance: int, *, interest: int = 0, principal_cents: int = 0, loss: int = 0, pool_end: int):
    state = DealState(cutoff_balance_cents=CUTOFF, pool_balance_begin_cents=100_000_000,
                      pool_balance_end_cents=pool_end)
    return run_waterfall(collections=money(interest, principal_cents, loss), fees=NO_FEES,
                         classes=[cls("A", 1, a_balance)], structure=OC_DEAL, state=state)


def test_principal_that_would_lift_the_oc_above_target_is_released():
    result = oc_run(89_000_000, principal_cents=1_000_000, pool_end=99_000_000)
    assert (result.oc_target_cents, result.oc_release_cents, result.excess_principal_cents) == (
        10_000_000, 1_000_000, 1_000_000)
    assert result.for_class("A").principal_paid_cents == 0
    assert result.oc_end_cents == 10_000_000


def test_interest_left_turbos_the_classes_until_the_oc_reaches_target():
    result = oc_run(91_000_000, interest=500_000, principal_cents=1_000_000, pool_end=99_000_000)
    a = result.for_class("A")
    assert (a.interest_paid_cents, result.turbo_principal_cents, a.principal_paid_cents) == (
        303_333, 196_667, 1_196_667)
    assert (result.excess_interest_cents, result.oc_end_cents) == (0, 9_196_667)


def test_the_oc_absorbs_a_loss_until_the_classes_stand_above_the_pool():
    absorbed = oc_run(89_000_000, loss=500_000, pool_end=99_500_000)
    assert (absorbed.loss_absorbed_by_oc_cents, absorbed.for_class("A").loss_written_off_cents) == (500_000, 0)
    written = oc_run(95_000_000, loss=6_000_000, pool_end=94_000_000)
    assert (written.loss_absorbed_by_oc_cents, written.for_class("A").loss_written_off_cents) == (
        5_000_000, 1_000_000)


def test_the_oc_target_steps_down_with_a_floor_and_floors_to_the_cent():
    stepping = Overcollateralization(target_percent=Decimal(10), stepdown_target_percent=Decimal(15),
                                     floor_percent=Decimal(5))
    status = trigger_status(Triggers(stepdown_period=3, delinquency_60_percent=Decimal(10)), period_number=3,
                            cutoff_balance_cents=CUTOFF, cumulative_loss_cents=0,
                            pool_balance_end_cents=50_000_003, delinquent_60_cents=0, delinquent_90_cents=0,
                            failed_before=False)
    target = {end: oc_target_cents(stepping, status=status, cutoff_balance_cents=CUTOFF, pool_balance_end_cents=end)
              for end in (50_000_003, 20_000_000, 90_000_000)}
    assert target == {50_000_003: 7_500_000, 20_000_000: 5_000_000, 90_000_000: 10_000_000}
    assert oc_target_cents(stepping, status=None, cutoff_balance_cents=CUTOFF,
                           pool_balance_end_cents=50_000_003) == 10_000_000


def test_a_turbo_step_without_an_oc_target_is_refused_naming_the_step():
    with pytest.raises(WaterfallError, match="'turbo' needs an overcollateralization target"):
        run_waterfall(collections=money(1), fees=NO_FEES, classes=AB, structure=DealStructure(steps=OC_STEPS))


# ------------------------------------------------------------------ reserve

RESERVE_DEAL = DealStructure(
    steps=("servicing_fee", "spread", "interest", "reserve_draw", "principal", "losses", "reserve_deposit", "excess"),
    reserve=ReserveAccount(target_cents=1_000_000, initial_deposit_cents=500_000),
)


def reserve_run(reserve: int, interest: int, *, balance: int = 100_000_000, principal_cents: int = 0,
                call: bool = False):
    return run_waterfall(collections=money(interest, principal_cents), fees=NO_FEES,
                         classes=[cls("A", 1, balance)], structure=RESERVE_DEAL,
                         state=DealState(reserve_balance_cents=reserve, call_exercised=call))


def test_the_reserve_pays_a_class_interest_shortfall():
    result = reserve_run(500_000, 300_000)
    a = result.for_class("A")
    assert (a.interest_due_cents, a.interest_paid_cents, a.interest_shortfall_carried_cents) == (333_333, 333_333, 0)
    assert (result.reserve_draw_cents, result.reserve_deposit_cents, result.reserve_balance_end_cents) == (
        33_333, 0, 466_667)


def test_interest_left_tops_the_reserve_up_to_its_target():
    result = reserve_run(500_000, 900_000)
    assert (result.reserve_deposit_cents, result.excess_interest_cents, result.reserve_balance_end_cents) == (
        500_000, 66_667, 1_000_000)


def test_a_reserve_above_target_releases_the_excess_and_all_once_the_classes_are_retired():
    above = reserve_run(1_200_000, 900_000)
    assert (above.reserve_released_cents, above.reserve_balance_end_cents) == (200_000, 1_000_000)
    retired = reserve_run(700_000, 900_000, balance=100_000, principal_cents=100_000)
    assert (retired.reserve_deposit_cents, retired.reserve_released_cents, retired.reserve_balance_end_cents) == (
        300_000, 1_000_000, 0)


# ---------------------------------------------------------- clean-up call


def test_the_call_retires_every_class_writing_off_what_principal_did_not_pay():
    result = reserve_run(500_000, 900_000, principal_cents=1_000_000, call=True)
    a = result.for_class("A")
    assert (a.principal_paid_cents, a.loss_written_off_cents, a.balance_end_cents) == (1_000_000, 99_000_000, 0)
    assert (result.retired_by_call, result.call_written_off_cents) == (True, 99_000_000)
    assert (result.reserve_released_cents, result.reserve_balance_end_cents) == (1_000_000, 0)


def test_an_io_notional_ends_at_zero_when_the_call_is_exercised():
    classes = [cls("A", 1, 1_000_000), cls("X", 1, 0, "1", kind="io", notional_of=("pool",))]
    result = run_waterfall(collections=money(10_000, 1_000, 50), fees=NO_FEES, classes=classes,
                           state=DealState(pool_balance_begin_cents=1_000_000, pool_balance_end_cents=998_950,
                                           call_exercised=True))
    x = result.for_class("X")
    assert (x.balance_begin_cents, x.balance_end_cents) == (1_000_000, 0)
    assert (result.for_class("A").loss_written_off_cents, result.call_written_off_cents) == (999_000, 998_950)


def test_a_turbo_step_passed_to_a_deal_without_an_oc_target_pays_nothing():
    steps = (*STANDARD_STEPS[:-1], PayTurbo(), STANDARD_STEPS[-1])
    result = run_waterfall(collections=money(1_000_000), fees=NO_FEES, classes=AB, steps=steps)
    assert (result.turbo_principal_cents, result.for_class("A").principal_paid_cents) == (0, 0)
