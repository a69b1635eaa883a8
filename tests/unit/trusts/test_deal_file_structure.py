"""The deal file's structure keys: each is read into the DealStructure, and each inconsistency is named.

The two example deals (docs/deals/) parse; every refusal names its step, class or key; all of a
file's problems come together; a file without the keys is the standard deal.
"""
import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.unit.trusts.test_deal_file import EXAMPLE
from trusts.domain.deal_file import parse_deal
from trusts.domain.deal_structure import (
    STANDARD_STRUCTURE, ClassFeatures, LockoutStep, LossLimit, Overcollateralization, ReserveAccount, Triggers,
)

DEALS = Path(__file__).resolve().parents[3] / "docs" / "deals"
FULL_STEPS = ["trustee_fee", "servicing_fee", "spread", "interest", "reserve_draw", "principal", "losses", "turbo",
              "reserve_deposit", "excess"]


def example(name: str) -> dict:
    return json.loads((DEALS / f"{name}.json").read_text())


def deal(classes=None, **keys) -> dict:
    """The unit example with these classes (no holders) and these deal-level keys."""
    data = copy.deepcopy(EXAMPLE)
    data["holders"] = []
    if classes is not None:
        data["classes"] = classes
    data.update(keys)
    return data


def cls(name, face="500000.00", coupon="5", priority=1, principal="sequential", **features) -> dict:
    return {"name": name, "face": face, "coupon": coupon, "principal": principal, "priority": priority, **features}


def problems_of(data) -> list[str]:
    spec, problems = parse_deal(data)
    assert spec is None and problems
    return problems


def has(problems: list[str], *fragments: str) -> None:
    for fragment in fragments:
        assert any(fragment in p for p in problems), (fragment, problems)


def test_a_file_without_structure_keys_is_the_standard_deal():
    spec, problems = parse_deal(deal())
    assert problems == [] and spec.structure == STANDARD_STRUCTURE


def test_the_private_label_example_declares_every_deal_level_key():
    spec, problems = parse_deal(example("private-label-2026-1"))
    assert problems == []
    s = spec.structure
    assert list(s.steps) == FULL_STEPS and s.trustee_fee_rate == Decimal("0.0100")
    assert s.triggers == Triggers(stepdown_period=36, cumulative_loss=(
        LossLimit(from_period=37, percent=Decimal("1.25")), LossLimit(from_period=49, percent=Decimal(2)),
        LossLimit(from_period=61, percent=Decimal("2.75"))), delinquency_60_percent=Decimal(8), sticky=True)
    assert s.overcollateralization == Overcollateralization(
        target_percent=Decimal("1.5"), stepdown_target_percent=Decimal("3.0"), floor_percent=Decimal("0.5"))
    assert s.reserve == ReserveAccount(target_cents=10_000_000, initial_deposit_cents=2_500_000)
    assert s.cleanup_call_percent == Decimal(10) and s.features == {}
    assert spec.overcollateralized  # declaring a target makes the deal over-collateralised


def test_the_agency_example_declares_a_pac_its_support_an_accrual_class_and_an_io_strip():
    spec, problems = parse_deal(example("agency-pac-2026-1"))
    assert problems == []
    f = spec.structure.features
    assert {name: x.kind for name, x in f.items()} == {"PA": "pac", "S": "support", "Z": "accrual", "PX": "io"}
    schedule = f["PA"].schedule
    assert len(schedule) > 100 and schedule[0] <= 180_000_000 and list(schedule) == sorted(schedule, reverse=True)
    assert f["PA"].band == (Decimal(90), Decimal(300)) and f["PX"].notional_of == ("PA",)
    assert spec.structure.steps == STANDARD_STRUCTURE.steps


def test_a_nas_lockout_an_io_on_the_pool_and_a_po():
    spec, problems = parse_deal(deal([
        cls("A", "600000.00", priority=1),
        cls("N", "300000.00", priority=2, kind="nas",
            lockout=[{"through_period": 36, "percent": "0"}, {"through_period": 60, "percent": "45"}]),
        cls("P", "100000.00", coupon="0", priority=3, kind="po"),
        cls("X", "1000000.00", coupon="0.5", priority=4, principal="pro-rata", kind="io", notional_of="pool"),
    ], triggers={"stepdown_period": 36, "delinquency_90_percent": "5", "sticky": False}))
    assert problems == []
    f = spec.structure.features
    assert f["N"] == ClassFeatures(kind="nas", lockout=(LockoutStep(through_period=36, percent=Decimal(0)),
                                                         LockoutStep(through_period=60, percent=Decimal(45))))
    assert f["X"].notional_of == ("pool",) and f["P"].kind == "po"
    assert spec.structure.triggers == Triggers(stepdown_period=36, delinquency_90_percent=Decimal(5), sticky=False)


def test_an_oc_target_alone_holds_for_the_whole_deal():
    spec, problems = parse_deal(deal(waterfall=["servicing_fee", "spread", "interest", "principal", "losses", "turbo",
                                                "excess"], overcollateralization={"target_percent": "2"}))
    assert problems == []
    assert spec.structure.overcollateralization == Overcollateralization(
        target_percent=Decimal(2), stepdown_target_percent=Decimal(2), floor_percent=Decimal(0))


@pytest.mark.parametrize("changes, expected", [
    ({"waterfall": ["servicing_fee", "spread", "interest", "principal", "losses", "bonus", "excess"]},
     "waterfall step 'bonus' is not a known step"),
    ({"waterfall": ["servicing_fee", "spread", "interest", "principal", "losses", "turbo", "excess"]},
     "waterfall step 'turbo' needs an overcollateralization target"),
    ({"trustee_fee_rate": "0.01"}, "the deal declares a trustee_fee_rate above zero but no 'trustee_fee' step"),
    ({"reserve_account": {"target": "1000.00"}}, "the deal declares a reserve_account but no 'reserve_draw' step"),
    ({"waterfall": ["servicing_fee", "spread", "interest", "principal", "excess", "losses"]},
     "waterfall step 'excess' must be the last step"),
    ({"waterfall": ["servicing_fee", "interest", "principal", "losses", "excess"]}, "waterfall step 'spread' is required"),
    ({"waterfall": "standard"}, "waterfall: must be a non-empty list of step names"),
    ({"triggers": {"stepdown_period": 36, "delinquency_60_percent": "180"}}, "triggers: limits are percents from 0 to 100"),
    ({"triggers": {"stepdown_period": 0, "delinquency_60_percent": "8"}}, "stepdown_period must be 1 or more"),
    ({"triggers": {"stepdown_period": 36}}, "triggers: declare at least one test"),
    ({"triggers": {"stepdown_period": 36, "cumulative_loss": [{"from_period": 49, "percent": "2"},
                                                              {"from_period": 37, "percent": "1"}]}},
     "cumulative_loss from_period must be 1 or more and rise"),
    ({"triggers": {"stepdown_period": "36", "delinquency_60_percent": "8"}},
     "triggers stepdown_period: '36' must be a whole number of periods"),
    ({"triggers": {"stepdown_period": 36, "delinquency_60_percent": "8", "sticky": "yes"}},
     "triggers sticky: 'yes' must be JSON true or false"),
    ({"triggers": {"stepdown_period": 36, "delinquency_60_percent": "8", "stepdown": 36}},
     "triggers: unknown keys 'stepdown'"),
    ({"waterfall": ["servicing_fee", "spread", "interest", "principal", "losses", "turbo", "excess"],
      "overcollateralization": {"target_percent": "1", "floor_percent": "2"}},
     "overcollateralization: the floor is above the target"),
    ({"waterfall": ["servicing_fee", "spread", "interest", "principal", "losses", "turbo", "excess"],
      "overcollateralization": {"target_percent": "1", "stepdown_target_percent": "2"}},
     "a step-down target needs triggers"),
    ({"overcollateralization": {"target": "1"}}, "overcollateralization: unknown keys 'target'"),
    ({"overcollateralized": False, "overcollateralization": {"target_percent": "1"}},
     "overcollateralized: is false but the deal declares an overcollateralization target"),
    ({"reserve_account": {"target": "1000.00", "initial_deposit": "2000.00"}},
     "reserve_account: the target and initial deposit are amounts, the deposit at most the target"),
    ({"reserve_account": {"target": 1000}}, "reserve_account target: 1000 must be an amount in dollars as a string"),
    ({"reserve_account": {"target": "1000.00", "deposit": "1.00"}}, "reserve_account: unknown keys 'deposit'"),
    ({"cleanup_call_percent": "60"}, "cleanup_call_percent must be above 0 and at most 50"),
    ({"cleanup_call_percent": 10.0}, "cleanup_call_percent: 10.0 must be a number written as a string"),
    ({"trustee_fee_rate": 0.01}, "trustee_fee_rate: 0.01 must be a percentage"),
    ({"trustee_fee_rate": "0.012345"}, "trustee_fee_rate: '0.012345' has more than 4 decimals"),
])
def test_each_deal_level_refusal_is_named(changes, expected):
    has(problems_of(deal(**changes)), expected)


@pytest.mark.parametrize("classes, expected", [
    ([cls("A", "1000000.00", kind="pac")], "class A: a PAC class needs a schedule of balances"),
    ([cls("A", "500000.00", kind="pac", schedule=["400000.00", "450000.00"]), cls("B", priority=2)],
     "class A: the schedule must not rise"),
    ([cls("A", "500000.00", kind="pac", schedule=["600000.00"]), cls("B", priority=2)],
     "class A: the schedule's first balance is above the class's face"),
    ([cls("A", "500000.00", kind="pac", schedule=[400000.0]), cls("B", priority=2)],
     "class A schedule[0]: 400000.0 must be an amount in dollars as a string, like \"1000.00\", zero or more"),
    ([cls("A", "500000.00", kind="pac", schedule=["400000.00"], band=["300", "90"]), cls("B", priority=2)],
     "class A: the band is (lower PSA, upper PSA)"),
    ([cls("A", "500000.00", kind="pac", schedule=["400000.00"], band=["90"]), cls("B", priority=2)],
     "class A: band must be [lower PSA, upper PSA]"),
    ([cls("A"), cls("S", priority=2, kind="support")], "a support class needs a PAC class in the deal"),
    ([cls("A"), cls("B", priority=2), cls("X", "500000.00", coupon="1", priority=3, kind="io", notional_of=["Q"])],
     "class X: notional class Q is not a class of the deal that pays principal"),
    ([cls("A"), cls("B", priority=2), cls("X", "500000.00", coupon="1", priority=3, kind="io")],
     "class X: an IO class needs a notional"),
    ([cls("A"), cls("B", priority=2), cls("X", "500000.00", coupon="1", priority=3, kind="io", notional_of=7)],
     "class X: notional_of must be a list of class names or \"pool\""),
    ([cls("Z", kind="accrual"), cls("B", priority=2)], "class Z: an accrual class needs a class ahead of it"),
    ([cls("A"), cls("Z", priority=2, coupon="net-wac", kind="accrual")],
     "class Z: an accrual class needs a fixed coupon above zero"),
    ([cls("A"), cls("P", priority=2, coupon="1", kind="po")], "class P: a PO class has a coupon of \"0\""),
    ([cls("A"), cls("N", priority=2, kind="nas", lockout=[{"through_period": 60, "percent": "0"},
                                                          {"through_period": 36, "percent": "45"}])],
     "class N: lockout periods must be 1 or more and rise"),
    ([cls("A"), cls("N", priority=2, kind="nas", lockout=[{"through_period": 36, "percent": "400"}])],
     "class N: lockout percents are from 0 to 300"),
    ([cls("A"), cls("N", priority=2, kind="nas", lockout=[{"through": 36, "percent": "0"}])],
     "class N lockout[0]: unknown keys 'through'"),
    ([cls("A", lockout=[{"through_period": 36, "percent": "0"}]), cls("B", priority=2)],
     "class A: only a NAS class has a lockout"),
    ([cls("A", schedule=["1.00"]), cls("B", priority=2)], "class A: only a PAC class has a schedule"),
    ([cls("A", kind="turbo"), cls("B", priority=2)], "class A: kind 'turbo' is not one of"),
    ([cls("A", tranche="senior"), cls("B", priority=2)], "classes[0]: unknown keys 'tranche'"),
])
def test_each_class_refusal_names_its_class(classes, expected):
    has(problems_of(deal(classes)), expected)


def test_a_long_bad_schedule_is_not_copied_out_entry_by_entry():
    problems = problems_of(deal([cls("A", "500000.00", kind="pac", schedule=["x"] * 50), cls("B", priority=2)]))
    assert sum("schedule[" in p for p in problems) == 3
    has(problems, "class A: schedule: 47 more entries are not amounts")


def test_every_problem_with_the_structure_comes_together_with_the_files_others():
    problems = problems_of(deal(
        [cls("Z", kind="accrual"), cls("S", priority=2, kind="support"), cls("P", priority=3, coupon="2", kind="po")],
        payment_day=40, trustee_fee_rate="0.01",
        waterfall=["servicing_fee", "spread", "interest", "principal", "losses", "bonus", "excess"],
    ))
    has(problems, "payment_day: 40", "waterfall step 'bonus' is not a known step",
        "no 'trustee_fee' step", "class Z: an accrual class needs a class ahead of it",
        "a support class needs a PAC class", "class P: a PO class has a coupon")
