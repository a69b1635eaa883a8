"""The waterfall: the seed's worked example, shortfalls, paydown, losses, excess, conservation."""
from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.money import dollars
from remittance.domain.waterfall import (
    STANDARD_STEPS,
    ClassState,
    ConservationError,
    Fees,
    PayExcess,
    PayFee,
    PayInterest,
    PayPrincipal,
    PeriodCollections,
    WaterfallError,
    WriteOffLosses,
    carried_forward,
    run_waterfall,
    split_among_holders,
)

# The seed pool: ten $100,000 loans at 6%, month 1.
SEED_INTEREST = 500_000  # 5,000.00
SEED_PRINCIPAL = 99_550  # 995.50 = ten x 99.55
SEED_FEES = Fees(servicing_fee_cents=50_000, issuer_spread_cents=50_000)  # 500.00 each
SEED_FACE = 100_000_000  # 1,000,000.00


def seed_collections(**changes: int) -> PeriodCollections:
    base = PeriodCollections(interest_collected_cents=SEED_INTEREST, principal_collected_cents=SEED_PRINCIPAL)
    return dataclasses.replace(base, **changes)


def pass_through(coupon: Decimal | None = None) -> ClassState:
    return ClassState(name="A", balance_cents=SEED_FACE, coupon=coupon, principal_rule="pro-rata", priority=1)


def sequential(name: str, priority: int, balance_cents: int, coupon: Decimal | None = Decimal("4")) -> ClassState:
    return ClassState(
        name=name, balance_cents=balance_cents, coupon=coupon, principal_rule="sequential", priority=priority
    )


# ------------------------------------------------------------ the seed


def test_seed_example_net_wac_pass_through():
    result = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=[pass_through()])
    a = result.for_class("A")
    assert dollars(result.fee_paid_cents) == "500.00"
    assert dollars(result.spread_paid_cents) == "500.00"
    assert dollars(a.interest_paid_cents) == "4000.00"
    assert dollars(a.principal_paid_cents) == "995.50"
    assert a.interest_shortfall_carried_cents == 0
    assert a.balance_end_cents == SEED_FACE - SEED_PRINCIPAL
    assert result.excess_interest_cents == 0
    assert result.excess_principal_cents == 0
    assert result.fee_shortfall_cents == result.spread_shortfall_cents == 0


def test_seed_example_each_of_ten_investors_receives_499_55():
    result = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=[pass_through()])
    a = result.for_class("A")
    holdings = [(f"H{i:02d}", 10_000_000) for i in range(1, 11)]  # 100 bonds of $1,000 each
    split = split_among_holders(amount_cents=a.interest_paid_cents + a.principal_paid_cents, holdings=holdings)
    assert {dollars(v) for v in split.values()} == {"499.55"}


def test_seed_example_five_percent_coupon_carries_the_shortfall():
    result = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=[pass_through(Decimal("5"))])
    a = result.for_class("A")
    assert dollars(a.interest_due_cents) == "4166.67"
    assert dollars(a.interest_paid_cents) == "4000.00"
    assert dollars(a.interest_shortfall_carried_cents) == "166.67"
    assert result.excess_interest_cents == 0


def test_carried_shortfall_is_due_next_month_on_top_and_grows_when_interest_is_short():
    classes = [pass_through(Decimal("5"))]
    month1 = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=classes)
    classes2 = carried_forward(classes=classes, result=month1)
    assert classes2[0].balance_cents == 99_900_450
    assert classes2[0].interest_shortfall_carried_cents == 16_667
    # Month 2 on the smaller pool: 6% of 999,004.50 is 4,995.02; fees 499.50 each.
    fees2 = Fees(servicing_fee_cents=49_950, issuer_spread_cents=49_950)
    month2 = run_waterfall(
        collections=PeriodCollections(interest_collected_cents=499_502, principal_collected_cents=100_048),
        fees=fees2,
        classes=classes2,
    )
    a = month2.for_class("A")
    assert a.interest_due_cents == 416_252 + 16_667  # 4,162.52 of coupon + 166.67 carried
    assert a.interest_paid_cents == 499_502 - 2 * 49_950
    assert a.interest_shortfall_carried_cents == a.interest_due_cents - a.interest_paid_cents


def test_carried_shortfall_is_paid_next_month_when_interest_allows():
    classes = [pass_through(Decimal("5"))]
    month1 = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=classes)
    classes2 = carried_forward(classes=classes, result=month1)
    # Late interest from earlier months arrives: 5,500.00 collected.
    fees2 = Fees(servicing_fee_cents=49_950, issuer_spread_cents=49_950)
    month2 = run_waterfall(
        collections=PeriodCollections(interest_collected_cents=550_000, principal_collected_cents=0),
        fees=fees2,
        classes=classes2,
    )
    a = month2.for_class("A")
    assert a.interest_paid_cents == 416_252 + 16_667
    assert a.interest_shortfall_carried_cents == 0
    assert month2.excess_interest_cents == 550_000 - 2 * 49_950 - (416_252 + 16_667)


# ----------------------------------------------------------- fees


def test_fee_and_spread_shortfalls_are_reported_and_paid_first_next_time():
    month1 = run_waterfall(
        collections=seed_collections(interest_collected_cents=60_000), fees=SEED_FEES, classes=[pass_through()]
    )
    assert (month1.fee_paid_cents, month1.fee_shortfall_cents) == (50_000, 0)
    assert (month1.spread_paid_cents, month1.spread_shortfall_cents) == (10_000, 40_000)
    assert month1.for_class("A").interest_paid_cents == 0

    fees2 = Fees(
        servicing_fee_cents=50_000,
        issuer_spread_cents=50_000,
        fee_shortfall_carried_cents=month1.fee_shortfall_cents,
        spread_shortfall_carried_cents=month1.spread_shortfall_cents,
    )
    month2 = run_waterfall(collections=seed_collections(), fees=fees2, classes=[pass_through()])
    assert month2.spread_due_cents == 90_000
    assert month2.spread_paid_cents == 90_000
    assert month2.for_class("A").interest_paid_cents == 500_000 - 50_000 - 90_000


def test_steps_are_data_spread_first_when_the_deal_says_so():
    steps = (PayFee(fee="spread"), PayFee(fee="servicing"), PayInterest(), PayPrincipal(), WriteOffLosses(), PayExcess())
    result = run_waterfall(
        collections=seed_collections(interest_collected_cents=60_000), fees=SEED_FEES, classes=[pass_through()],
        steps=steps,
    )
    assert (result.spread_paid_cents, result.fee_paid_cents, result.fee_shortfall_cents) == (50_000, 10_000, 40_000)


def test_a_step_list_that_drops_money_is_refused():
    steps = tuple(s for s in STANDARD_STEPS if not isinstance(s, PayExcess))
    with pytest.raises(WaterfallError, match="undistributed"):
        run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=[pass_through(Decimal("4"))], steps=steps)


def test_a_step_twice_is_refused():
    with pytest.raises(WaterfallError, match="once"):
        run_waterfall(
            collections=seed_collections(), fees=SEED_FEES, classes=[pass_through()],
            steps=STANDARD_STEPS + (PayInterest(),),
        )


# ----------------------------------------------------- class interest


def test_excess_spread_goes_to_the_residual_when_coupons_are_below_the_net_rate():
    classes = [
        ClassState(name="A", balance_cents=60_000_000, coupon=Decimal("4"), principal_rule="pro-rata", priority=1),
        ClassState(name="B", balance_cents=40_000_000, coupon=Decimal("4.5"), principal_rule="pro-rata", priority=1),
    ]
    result = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=classes)
    assert result.for_class("A").interest_paid_cents == 200_000
    assert result.for_class("B").interest_paid_cents == 150_000
    assert result.excess_interest_cents == 400_000 - 350_000
    assert result.excess_principal_cents == 0


def test_interest_is_paid_by_priority_and_pro_rata_by_amount_due_within_a_priority():
    classes = [
        ClassState(name="A1", balance_cents=50_000_000, coupon=Decimal("5"), priority=1),
        ClassState(name="A2", balance_cents=30_000_000, coupon=Decimal("5"), priority=1),
        ClassState(name="B", balance_cents=20_000_000, coupon=Decimal("6"), principal_rule="sequential", priority=2),
    ]
    # 1,500.00 of interest after fees: A1 due 2,083.33, A2 due 1,250.00 -> split 1,500.00 pro rata.
    result = run_waterfall(
        collections=seed_collections(interest_collected_cents=250_000), fees=SEED_FEES, classes=classes
    )
    a1, a2, b = (result.for_class(n) for n in ("A1", "A2", "B"))
    assert (a1.interest_due_cents, a2.interest_due_cents) == (208_333, 125_000)
    assert a1.interest_paid_cents + a2.interest_paid_cents == 150_000
    assert (a1.interest_paid_cents, a2.interest_paid_cents) == (93_750, 56_250)
    assert b.interest_paid_cents == 0
    assert b.interest_shortfall_carried_cents == b.interest_due_cents == 100_000


def test_net_wac_classes_share_what_fixed_classes_leave_by_balance():
    classes = [
        ClassState(name="A", balance_cents=50_000_000, coupon=Decimal("4"), priority=1),
        ClassState(name="X1", balance_cents=30_000_000, coupon=None, priority=2),
        ClassState(name="X2", balance_cents=20_000_000, coupon=None, priority=2),
    ]
    result = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=classes)
    assert result.for_class("A").interest_paid_cents == 166_667
    left = 400_000 - 166_667
    assert result.for_class("X1").interest_paid_cents == 140_000  # 60% of 2,333.33, rounded by largest remainder
    assert result.for_class("X2").interest_paid_cents == left - 140_000
    assert result.excess_interest_cents == 0


def test_result_does_not_depend_on_the_order_classes_are_listed():
    classes = [
        ClassState(name="X1", balance_cents=33_333_333, coupon=None, priority=1),
        ClassState(name="X2", balance_cents=33_333_333, coupon=None, priority=1),
        ClassState(name="X3", balance_cents=33_333_334, coupon=None, priority=1),
    ]
    forward = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=classes)
    backward = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=classes[::-1])
    assert forward == backward


# --------------------------------------------------------- principal


def test_sequential_paydown_crosses_a_class_boundary_within_one_month():
    classes = [sequential("A", 1, 50_000), sequential("B", 2, 1_000_000), sequential("C", 3, 500_000)]
    result = run_waterfall(
        collections=seed_collections(principal_collected_cents=80_000), fees=SEED_FEES, classes=classes
    )
    a, b, c = (result.for_class(n) for n in "ABC")
    assert (a.principal_paid_cents, a.balance_end_cents) == (50_000, 0)
    assert (b.principal_paid_cents, b.balance_end_cents) == (30_000, 970_000)
    assert c.principal_paid_cents == 0


def test_pro_rata_principal_by_balance_is_exact():
    classes = [
        ClassState(name="A", balance_cents=2, coupon=None),
        ClassState(name="B", balance_cents=1, coupon=None),
    ]
    result = run_waterfall(
        collections=PeriodCollections(interest_collected_cents=0, principal_collected_cents=2),
        fees=Fees(servicing_fee_cents=0, issuer_spread_cents=0),
        classes=classes,
    )
    assert (result.for_class("A").principal_paid_cents, result.for_class("B").principal_paid_cents) == (1, 1)


def test_principal_left_when_every_class_is_paid_off_goes_to_the_residual():
    classes = [sequential("A", 1, 30_000), sequential("B", 2, 20_000)]
    result = run_waterfall(
        collections=seed_collections(principal_collected_cents=80_000), fees=SEED_FEES, classes=classes
    )
    assert result.for_class("A").balance_end_cents == result.for_class("B").balance_end_cents == 0
    assert result.excess_principal_cents == 30_000


# ------------------------------------------------------------- losses


def test_loss_is_written_off_the_junior_class():
    classes = [sequential("A", 1, 900_000), sequential("B", 2, 100_000)]
    result = run_waterfall(
        collections=seed_collections(principal_collected_cents=0, realized_loss_cents=40_000),
        fees=SEED_FEES,
        classes=classes,
    )
    assert result.for_class("B").loss_written_off_cents == 40_000
    assert result.for_class("B").balance_end_cents == 60_000
    assert result.for_class("A").loss_written_off_cents == 0


def test_loss_spills_into_the_next_class_when_the_junior_is_exhausted():
    classes = [sequential("A", 1, 900_000), sequential("B", 2, 100_000)]
    result = run_waterfall(
        collections=seed_collections(principal_collected_cents=0, realized_loss_cents=130_000),
        fees=SEED_FEES,
        classes=classes,
    )
    assert (result.for_class("B").loss_written_off_cents, result.for_class("B").balance_end_cents) == (100_000, 0)
    assert (result.for_class("A").loss_written_off_cents, result.for_class("A").balance_end_cents) == (30_000, 870_000)


def test_loss_is_shared_pro_rata_by_classes_at_the_same_junior_priority():
    classes = [
        sequential("A", 1, 900_000),
        ClassState(name="B1", balance_cents=75_000, coupon=Decimal("5"), principal_rule="pro-rata", priority=2),
        ClassState(name="B2", balance_cents=25_000, coupon=Decimal("5"), principal_rule="pro-rata", priority=2),
    ]
    result = run_waterfall(
        collections=seed_collections(principal_collected_cents=0, realized_loss_cents=10_000),
        fees=SEED_FEES,
        classes=classes,
    )
    assert result.for_class("B1").loss_written_off_cents == 7_500
    assert result.for_class("B2").loss_written_off_cents == 2_500


def test_loss_beyond_every_class_balance_is_reported_not_hidden():
    result = run_waterfall(
        collections=PeriodCollections(interest_collected_cents=0, principal_collected_cents=0, realized_loss_cents=7),
        fees=Fees(servicing_fee_cents=0, issuer_spread_cents=0),
        classes=[sequential("A", 1, 5)],
    )
    assert result.for_class("A").balance_end_cents == 0
    assert result.unabsorbed_loss_cents == 2


# --------------------------------------------------------- validation


@pytest.mark.parametrize(
    "classes, message",
    [
        ([sequential("A", 1, 10), sequential("B", 1, 10)], "priority of its own"),
        ([sequential("A", 1, 10), sequential("A", 2, 10)], "unique"),
        ([sequential("A", 1, -1)], "balance_cents -1 must be integer cents of zero or more"),
        ([sequential("A", 1, 10, coupon=0.05)], "Decimal"),
        ([ClassState(name="X", balance_cents=10, coupon=None, interest_shortfall_carried_cents=1)], "net-WAC"),
        ([ClassState(name="X", balance_cents=10, coupon=None, principal_rule="turbo")], "principal_rule"),
    ],
)
def test_bad_classes_are_refused(classes, message):
    with pytest.raises(WaterfallError, match=message):
        run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=classes)


def test_float_money_is_refused():
    with pytest.raises(WaterfallError, match="integer cents"):
        run_waterfall(
            collections=seed_collections(interest_collected_cents=5000.0), fees=SEED_FEES, classes=[pass_through()]
        )


def test_conservation_check_catches_a_moved_cent():
    result = run_waterfall(collections=seed_collections(), fees=SEED_FEES, classes=[pass_through()])
    tampered = dataclasses.replace(result, excess_interest_cents=1)
    with pytest.raises(ConservationError, match="interest collected"):
        tampered.check_conservation()
    a = dataclasses.replace(result.classes[0], balance_end_cents=result.classes[0].balance_end_cents + 1)
    with pytest.raises(ConservationError, match="roll forward"):
        dataclasses.replace(result, classes=(a,)).check_conservation()


# ------------------------------------------------- property: conservation

cents = st.integers(min_value=0, max_value=10**10)
coupons = st.one_of(st.none(), st.decimals(min_value=0, max_value=15, places=3))


@st.composite
def class_structures(draw) -> list[ClassState]:
    """Priority groups, each one sequential class or several pro-rata classes."""
    classes: list[ClassState] = []
    for priority in range(1, draw(st.integers(min_value=1, max_value=5)) + 1):
        rule = draw(st.sampled_from(["pro-rata", "sequential"]))
        size = 1 if rule == "sequential" else draw(st.integers(min_value=1, max_value=3))
        for _ in range(size):
            coupon = draw(coupons)
            classes.append(
                ClassState(
                    name=f"C{len(classes):02d}",
                    balance_cents=draw(cents),
                    coupon=coupon,
                    principal_rule=rule,
                    priority=priority,
                    interest_shortfall_carried_cents=0 if coupon is None else draw(st.integers(0, 10**7)),
                )
            )
    return classes


collections_ = st.builds(
    PeriodCollections, interest_collected_cents=cents, principal_collected_cents=cents, realized_loss_cents=cents
)
fees_ = st.builds(
    Fees,
    servicing_fee_cents=st.integers(0, 10**8),
    issuer_spread_cents=st.integers(0, 10**8),
    fee_shortfall_carried_cents=st.integers(0, 10**7),
    spread_shortfall_carried_cents=st.integers(0, 10**7),
)


@settings(max_examples=300, deadline=None)
@given(classes=class_structures(), collections=collections_, fees=fees_)
def test_conservation_and_seniority_hold_for_any_structure(classes, collections, fees):
    result = run_waterfall(collections=collections, fees=fees, classes=classes)
    result.check_conservation()
    ends = {c.name: c for c in result.classes}
    states = {s.name: s for s in classes}
    assert all(c.balance_end_cents >= 0 for c in result.classes)
    # Money only reaches the residual once every class is satisfied.
    if result.excess_interest_cents:
        assert all(c.interest_shortfall_carried_cents == 0 for c in result.classes)
        assert all(ends[n].balance_begin_cents == 0 for n, s in states.items() if s.coupon is None)
    if result.excess_principal_cents:
        assert all(c.balance_end_cents == 0 for c in result.classes)
    if result.unabsorbed_loss_cents:
        assert all(c.balance_end_cents == 0 for c in result.classes)
    # A junior class is paid principal only when every senior class is paid off,
    # and a senior class takes a loss only when every junior class is wiped out.
    for junior in classes:
        for senior in classes:
            if senior.priority < junior.priority and ends[junior.name].principal_paid_cents:
                assert ends[senior.name].balance_end_cents + ends[senior.name].loss_written_off_cents == 0
            if senior.priority < junior.priority and ends[senior.name].loss_written_off_cents:
                assert ends[junior.name].balance_end_cents == 0


@settings(max_examples=100, deadline=None)
@given(classes=class_structures(), collections=collections_, fees=fees_, seed=st.integers())
def test_class_order_never_changes_the_result(classes, collections, fees, seed):
    shuffled = list(classes)
    random.Random(seed).shuffle(shuffled)
    assert run_waterfall(collections=collections, fees=fees, classes=classes) == run_waterfall(
        collections=collections, fees=fees, classes=shuffled
    )


# ------------------------------------------------------------ holders


def test_split_among_holders_pro_rata_with_holder_code_tie_break():
    split = split_among_holders(amount_cents=100, holdings=[("H2", 1), ("H1", 1), ("H3", 1)])
    assert split == {"H2": 33, "H1": 34, "H3": 33}


def test_split_among_holders_refuses_duplicates_and_faceless_holdings():
    with pytest.raises(WaterfallError, match="once"):
        split_among_holders(amount_cents=100, holdings=[("H1", 1), ("H1", 2)])
    with pytest.raises(WaterfallError, match="no face"):
        split_among_holders(amount_cents=100, holdings=[("H1", 0)])
    assert split_among_holders(amount_cents=0, holdings=[]) == {}


holdings_ = st.lists(
    st.tuples(st.text(alphabet="ABCDEFGH0123456789", min_size=1, max_size=6), st.integers(0, 10**11)),
    min_size=1,
    max_size=30,
    unique_by=lambda h: h[0],
).filter(lambda hs: any(face for _, face in hs))


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(0, 10**11), holdings=holdings_, seed=st.integers())
def test_split_among_holders_sums_to_the_whole_is_pro_rata_and_order_free(amount, holdings, seed):
    split = split_among_holders(amount_cents=amount, holdings=holdings)
    assert sum(split.values()) == amount
    total_face = sum(face for _, face in holdings)
    for code, face in holdings:
        # Within one cent of the exact share amount * face / total_face, in integers.
        assert abs(split[code] * total_face - amount * face) < total_face, code
    shuffled = list(holdings)
    random.Random(seed).shuffle(shuffled)
    assert split_among_holders(amount_cents=amount, holdings=shuffled) == split
