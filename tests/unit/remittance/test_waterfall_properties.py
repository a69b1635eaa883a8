"""Properties of the structured waterfall: conservation over any valid deal, a PAC's schedule, triggers
over a run of periods, a Z's accretion."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.money import allocate
from remittance.domain.waterfall import (
    ClassState,
    DealState,
    Fees,
    PeriodCollections,
    carried_forward,
    run_waterfall,
)
from trusts.domain.deal_structure import (
    ClassFeatures,
    ClassOutline,
    DealStructure,
    LockoutStep,
    LossLimit,
    Overcollateralization,
    ReserveAccount,
    Triggers,
    structure_problems,
)

cents = st.integers(0, 10**9)
coupons = st.sampled_from([Decimal("0.5"), Decimal("4"), Decimal("5.25"), Decimal("7")])

# Each step that must come after others (trusts.domain.deal_structure's order rules).
AFTER: dict[str, tuple[str, ...]] = {
    "interest": ("trustee_fee", "servicing_fee", "spread"),
    "reserve_draw": ("interest",),
    "principal": ("reserve_draw",),
    "turbo": ("interest", "losses"),
    "reserve_deposit": ("interest", "losses", "turbo"),
}


@st.composite
def step_orders(draw, names: list[str]) -> tuple[str, ...]:
    """A random order of the steps that keeps every ordering rule: a random topological sort, excess last."""
    rnd = draw(st.randoms(use_true_random=False))
    left = [n for n in names if n != "excess"]
    order: list[str] = []
    while left:
        ready = [n for n in left if all(p in order or p not in left for p in AFTER.get(n, ()))]
        pick = rnd.choice(ready)
        order.append(pick)
        left.remove(pick)
    return (*order, "excess")


@st.composite
def deals(draw):
    """A valid deal: classes of random kinds and features, with a structure of random features and step order."""
    n = draw(st.integers(1, 5))
    classes: list[ClassState] = []
    for i in range(n):
        name, priority, balance = f"C{i}", draw(st.integers(1, 4)), draw(st.integers(0, 10**8))
        coupon = draw(st.none() | coupons)
        kind = draw(st.sampled_from(["standard", "pac", "support", "nas", "po", "accrual"]))
        has_ahead = any(c.priority < priority for c in classes)
        if kind == "accrual" and not has_ahead:
            kind = "standard"
        if kind == "support" and not any(c.features.kind == "pac" for c in classes):
            kind = "standard"
        if kind == "po":
            coupon = Decimal(0)
        if kind == "accrual" and coupon is None:
            coupon = Decimal(6)
        features = ClassFeatures(kind=kind)
        if kind == "pac":
            steps = sorted(draw(st.lists(st.integers(0, balance), min_size=1, max_size=6)), reverse=True)
            features = ClassFeatures(kind=kind, schedule=tuple(steps))
        if kind == "nas":
            lockout = (LockoutStep(through_period=draw(st.integers(1, 6)), percent=draw(st.sampled_from(
                [Decimal(0), Decimal("45.5"), Decimal(300)]))),)
            features = ClassFeatures(kind=kind, lockout=lockout)
        shortfall = 0 if not coupon else draw(st.integers(0, 10**5))
        classes.append(ClassState(name=name, balance_cents=balance, coupon=coupon, priority=priority,
                                  interest_shortfall_carried_cents=shortfall, features=features))
    if draw(st.booleans()):
        notional = draw(st.sampled_from([("pool",), *[(c.name,) for c in classes if c.features.kind != "accrual"]]))
        classes.append(ClassState(name="IO", balance_cents=0, coupon=draw(coupons), priority=draw(st.integers(1, 4)),
                                  features=ClassFeatures(kind="io", notional_of=notional)))
    triggers = draw(st.none() | st.builds(
        Triggers, stepdown_period=st.integers(1, 6),
        cumulative_loss=st.just((LossLimit(from_period=1, percent=Decimal("1.5")),)),
        delinquency_60_percent=st.sampled_from([None, Decimal(5)]), sticky=st.booleans()))
    oc = None
    if draw(st.booleans()):
        target = draw(st.sampled_from([Decimal(0), Decimal(2), Decimal(10)]))
        oc = Overcollateralization(target_percent=target, floor_percent=target / 2,
                                   stepdown_target_percent=target if triggers is None else target * 2)
    reserve = draw(st.none() | st.builds(ReserveAccount, target_cents=st.integers(0, 10**7)))
    trustee_rate = draw(st.sampled_from([Decimal(0), Decimal("0.02")]))
    names = ["servicing_fee", "spread", "interest", "principal", "losses", "excess"]
    names += ["trustee_fee"] * (trustee_rate > 0) + ["turbo"] * (oc is not None)
    names += ["reserve_draw", "reserve_deposit"] * (reserve is not None)
    structure = DealStructure(steps=draw(step_orders(names)), trustee_fee_rate=trustee_rate, triggers=triggers,
                              overcollateralization=oc, reserve=reserve)
    return structure, classes


states = st.builds(
    DealState, period_number=st.integers(1, 12), pool_balance_begin_cents=cents, pool_balance_end_cents=cents,
    cutoff_balance_cents=cents, cumulative_loss_before_cents=st.integers(0, 10**7),
    delinquent_60_cents=st.integers(0, 10**7), delinquent_90_cents=st.integers(0, 10**7),
    reserve_balance_cents=st.integers(0, 10**7), trigger_failed=st.booleans(), call_exercised=st.booleans(),
)
collections_ = st.builds(PeriodCollections, interest_collected_cents=st.integers(0, 10**7),
                         principal_collected_cents=st.integers(0, 10**7), realized_loss_cents=st.integers(0, 10**7))
fees_ = st.builds(Fees, servicing_fee_cents=st.integers(0, 10**5), issuer_spread_cents=st.integers(0, 10**5),
                  fee_shortfall_carried_cents=st.integers(0, 10**4), trustee_fee_cents=st.integers(0, 10**5),
                  trustee_fee_shortfall_carried_cents=st.integers(0, 10**4))


def outlines(classes: list[ClassState]) -> list[ClassOutline]:
    return [ClassOutline(name=c.name, face_cents=max([c.balance_cents, *c.features.schedule[:1]]), coupon=c.coupon,
                         priority=c.priority) for c in classes]


@settings(max_examples=600, deadline=None)
@given(deal=deals(), collections=collections_, fees=fees_, state=states)
def test_every_valid_deal_conserves_every_cent(deal, collections, fees, state):
    structure, classes = deal
    assert structure_problems(structure, outlines(classes)) == []
    result = run_waterfall(collections=collections, fees=fees, classes=classes, structure=structure, state=state)
    result.check_conservation()  # run_waterfall checked it too; the identities, spelled out once more:
    paid_interest = sum(c.interest_paid_cents for c in result.classes)
    assert collections.interest_collected_cents + result.reserve_draw_cents == (
        result.trustee_fee_paid_cents + result.fee_paid_cents + result.spread_paid_cents + paid_interest
        + result.accrual_cents + result.turbo_principal_cents + result.reserve_deposit_cents
        + result.excess_interest_cents)
    assert collections.principal_collected_cents + result.accrual_cents + result.turbo_principal_cents == (
        sum(c.principal_paid_cents for c in result.classes) + result.excess_principal_cents)
    for c in result.classes:
        if c.kind == "io":
            assert c.principal_paid_cents == c.loss_written_off_cents == 0
        else:
            assert c.balance_begin_cents + c.interest_accrued_cents - c.principal_paid_cents - c.loss_written_off_cents \
                == c.balance_end_cents
            if state.call_exercised:
                assert c.balance_end_cents == 0
    # The next period starts from this one's ends, features kept.
    forward = {s.name: s for s in carried_forward(classes=classes, result=result)}
    assert all(forward[c.name].balance_cents == c.balance_end_cents for c in result.classes)
    assert all(forward[s.name].features == s.features for s in classes)


@settings(max_examples=300, deadline=None)
@given(
    balance=st.integers(1, 10**8), schedule=st.lists(st.integers(0, 10**8), min_size=1, max_size=8),
    period=st.integers(1, 10), support=st.integers(1, 10**8), extra=st.integers(0, 10**7),
    pac_priority=st.integers(1, 3), support_priority=st.integers(1, 3), others=st.integers(0, 10**7),
)
def test_a_pac_with_support_left_is_paid_exactly_down_to_its_schedule(balance, schedule, period, support, extra,
                                                                       pac_priority, support_priority, others):
    schedule_ = tuple(sorted((min(s, balance) for s in schedule), reverse=True))
    pac = ClassFeatures(kind="pac", schedule=schedule_)
    need = max(0, balance - pac.scheduled_balance(period))
    # Enough principal for the PAC, and less than would retire the support class and the other class too.
    principal = need + min(extra, support + others - 1)
    classes = [ClassState(name="P", balance_cents=balance, coupon=Decimal(5), priority=pac_priority, features=pac),
               ClassState(name="S", balance_cents=support, coupon=Decimal(6), priority=support_priority,
                          features=ClassFeatures(kind="support")),
               ClassState(name="T", balance_cents=others, coupon=None, priority=2)]
    result = run_waterfall(collections=PeriodCollections(interest_collected_cents=0,
                                                         principal_collected_cents=principal),
                           fees=Fees(servicing_fee_cents=0, issuer_spread_cents=0), classes=classes,
                           state=DealState(period_number=period))
    assert result.for_class("P").principal_paid_cents == need


@settings(max_examples=200, deadline=None)
@given(delinquent=st.lists(st.booleans(), min_size=1, max_size=10), sticky=st.booleans(),
       principal=st.integers(1, 10**6))
def test_a_trigger_switches_principal_to_sequential_while_in_effect(delinquent, sticky, principal):
    structure = DealStructure(triggers=Triggers(stepdown_period=1, delinquency_60_percent=Decimal(5), sticky=sticky))
    classes: tuple[ClassState, ...] = (ClassState(name="A", balance_cents=60_000_000, coupon=Decimal(4), priority=1),
                                       ClassState(name="B", balance_cents=40_000_000, coupon=Decimal(4), priority=2))
    failed_before = False
    for k, failing in enumerate(delinquent, start=1):
        pool = sum(c.balance_cents for c in classes)
        state = DealState(period_number=k, cutoff_balance_cents=100_000_000, pool_balance_begin_cents=pool,
                          pool_balance_end_cents=pool - principal,
                          delinquent_60_cents=pool if failing else 0, trigger_failed=failed_before)
        result = run_waterfall(collections=PeriodCollections(interest_collected_cents=10**6,
                                                             principal_collected_cents=principal),
                               fees=Fees(servicing_fee_cents=0, issuer_spread_cents=0), classes=classes,
                               structure=structure, state=state)
        sequential = failing or (sticky and failed_before)
        assert result.triggers is not None and result.triggers.failed == failing
        assert result.triggers.principal_rule == ("sequential" if sequential else "pro-rata")
        paid = (result.for_class("A").principal_paid_cents, result.for_class("B").principal_paid_cents)
        if sequential:
            assert paid == (principal, 0)
        else:
            assert list(paid) == allocate(principal, [c.balance_cents for c in classes], keys=["A", "B"])
        failed_before = failed_before or result.triggers.failed
        classes = carried_forward(classes=classes, result=result)


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 10**7), z=st.integers(0, 10**8), coupon=coupons,
       principal=st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_a_z_grows_by_exactly_its_accrual_while_a_class_ahead_is_outstanding(a, z, coupon, principal):
    classes: tuple[ClassState, ...] = (
        ClassState(name="A", balance_cents=a, coupon=Decimal(4), priority=1),
        ClassState(name="Z", balance_cents=z, coupon=coupon, priority=2, features=ClassFeatures(kind="accrual")))
    for amount in principal:
        ahead = classes[0].balance_cents
        result = run_waterfall(collections=PeriodCollections(interest_collected_cents=10**8,
                                                             principal_collected_cents=amount),
                               fees=Fees(servicing_fee_cents=0, issuer_spread_cents=0), classes=classes)
        zr = result.for_class("Z")
        if ahead > 0:
            assert zr.interest_paid_cents == 0 and zr.interest_accrued_cents == zr.interest_due_cents
            assert result.accrual_cents == zr.interest_accrued_cents
            if result.for_class("A").balance_end_cents > 0:
                assert zr.balance_end_cents == zr.balance_begin_cents + zr.interest_accrued_cents
        else:
            assert zr.interest_accrued_cents == 0 and zr.interest_paid_cents == zr.interest_due_cents
        classes = carried_forward(classes=classes, result=result)
