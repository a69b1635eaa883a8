"""The pure close of a structured deal (remittance.domain.close_figures with a DealStructure and a
PeriodStanding): the trustee fee, the reserve's initial deposit at the first close, the cumulative loss and a
sticky trigger failure carried on; and, for any structure drawn, the close reconciles and every event it
appends balances."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from remittance.domain.close_events import CloseContext, close_appends, period_closed
from remittance.domain.close_figures import Carried, PeriodStanding, close_figures
from remittance.domain.waterfall import ClassState
from tests.unit.remittance.test_closing import seed_loan
from trusts.domain.deal_structure import (
    ACCRUAL, ClassFeatures, DealStructure, LossLimit, Overcollateralization, ReserveAccount, Triggers,
)

FACES = {"A": 80_000_000, "B": 15_000_000}
HOLDERS = {"A": {"INV-A": 80_000_000}, "B": {"INV-B": 15_000_000}}
STEPS = ("trustee_fee", "servicing_fee", "spread", "interest", "reserve_draw", "principal", "losses", "turbo",
         "reserve_deposit", "excess")
STRUCTURE = DealStructure(
    steps=STEPS, trustee_fee_rate=Decimal("0.12"),
    triggers=Triggers(stepdown_period=1, cumulative_loss=(LossLimit(from_period=1, percent=Decimal("0.5")),)),
    overcollateralization=Overcollateralization(target_percent=Decimal(5), stepdown_target_percent=Decimal(5)),
    reserve=ReserveAccount(target_cents=500_000, initial_deposit_cents=100_000),
)


def classes() -> tuple[ClassState, ...]:
    return (ClassState(name="A", balance_cents=FACES["A"], coupon=Decimal(4), principal_rule="sequential", priority=1),
            ClassState(name="B", balance_cents=FACES["B"], coupon=Decimal(5), principal_rule="sequential", priority=2))


def close(carried: Carried, number: int, loss_cents: int = 0, structure: DealStructure = STRUCTURE):
    loans = [seed_loan(f"L{i:03d}", realized_loss_cents=loss_cents if i == 1 else 0) for i in range(1, 11)]
    return close_figures(loans=loans, carried=carried, issuer_spread_rate=Decimal("0.6"), scheduled=False,
                         original_faces=FACES, holders=HOLDERS, structure=structure,
                         standing=PeriodStanding(period_number=number, cutoff_balance_cents=100_000_000))


def context(period: str = "2026-02") -> CloseContext:
    return CloseContext(trust_code="S", period=period, record_date=date(2026, 2, 27), payment_date=date(2026, 3, 25),
                        through_position=9, previous_through=3, original_faces=FACES,
                        coupons={"A": "4", "B": "5"}, pool_original_cents=100_000_000)


def carried_after(figures, before: Carried) -> Carried:
    """What the next close starts from: as the facts readers carry it from the recorded PeriodClosed."""
    recorded = period_closed(context(), figures)
    states = tuple(ClassState(name=s.name, coupon=s.coupon, principal_rule=s.principal_rule, priority=s.priority,
                              features=s.features,
                              balance_cents=recorded.class_line(s.name).balance_end_cents,
                              interest_shortfall_carried_cents=recorded.class_line(s.name).interest_shortfall_cents)
                   for s in before.classes)
    return Carried(classes=states, trustee_fee_shortfall_cents=recorded.trustee_fee_shortfall_cents,
                   reserve_balance_cents=recorded.reserve_balance_end_cents,
                   cumulative_loss_cents=recorded.cumulative_loss_cents, trigger_failed=recorded.trigger_failed)


def test_the_first_close_funds_the_reserve_and_pays_the_trustee():
    first = close(Carried(classes=classes(), reserve_balance_cents=100_000), 1)
    assert first.trustee_fee_due_cents == 10_000 and first.waterfall.trustee_fee_paid_cents == 10_000
    assert first.reserve_funded_cents == 100_000 and first.waterfall.reserve_balance_begin_cents == 100_000
    second = close(carried_after(first, Carried(classes=classes())), 2)
    assert second.reserve_funded_cents == 0
    assert second.waterfall.reserve_balance_begin_cents == first.waterfall.reserve_balance_end_cents


def test_the_cumulative_loss_and_a_sticky_failure_are_carried_on():
    first = close(Carried(classes=classes(), reserve_balance_cents=100_000), 1, loss_cents=600_000)
    assert first.cumulative_loss_cents == 600_000
    # 0.6% of the cut-off balance is above the 0.5% limit: failed, and sticky.
    assert first.waterfall.triggers is not None and first.waterfall.triggers.failed and first.trigger_failed
    second = close(carried_after(first, Carried(classes=classes())), 2)
    assert second.cumulative_loss_cents == 600_000 and second.trigger_failed
    assert second.waterfall.triggers is not None and second.waterfall.triggers.in_effect
    assert second.waterfall.triggers.principal_rule == "sequential"


def test_a_failure_of_a_deal_whose_triggers_are_not_sticky_is_not_carried():
    loose = DealStructure(steps=STEPS, trustee_fee_rate=STRUCTURE.trustee_fee_rate,
                          triggers=Triggers(stepdown_period=1, sticky=False,
                                            cumulative_loss=STRUCTURE.triggers.cumulative_loss),  # type: ignore[union-attr]
                          overcollateralization=STRUCTURE.overcollateralization, reserve=STRUCTURE.reserve)
    first = close(Carried(classes=classes(), reserve_balance_cents=100_000), 1, loss_cents=600_000, structure=loose)
    assert first.waterfall.triggers is not None and first.waterfall.triggers.failed and not first.trigger_failed


@st.composite
def structures(draw) -> tuple[DealStructure, int]:
    fee = draw(st.sampled_from([Decimal(0), Decimal("0.05"), Decimal("0.5")]))
    reserve = draw(st.sampled_from([None, ReserveAccount(target_cents=300_000, initial_deposit_cents=50_000)]))
    oc = draw(st.sampled_from([None, Overcollateralization(target_percent=Decimal(5),
                                                             stepdown_target_percent=Decimal(5))]))
    triggers = draw(st.sampled_from([None, Triggers(stepdown_period=2, delinquency_60_percent=Decimal(3)),
                                     STRUCTURE.triggers]))
    accrual = draw(st.booleans())
    steps = [s for s in STEPS if (s != "trustee_fee" or fee) and (s not in ("reserve_draw", "reserve_deposit")
                                                                   or reserve) and (s != "turbo" or oc)]
    structure = DealStructure(steps=tuple(steps), trustee_fee_rate=fee, reserve=reserve, overcollateralization=oc,
                              triggers=triggers, features={"B": ClassFeatures(kind=ACCRUAL)} if accrual else {})
    return structure, draw(st.integers(0, 3_000_000))


@settings(max_examples=60, deadline=None)
@given(structures(), st.integers(1, 4), st.integers(0, 60_000))
def test_any_structure_closes_reconciled_and_every_event_balances(drawn, months, short_interest):
    structure, loss = drawn
    carried = Carried(classes=tuple(s if s.name != "B" else ClassState(
        name="B", balance_cents=s.balance_cents, coupon=s.coupon, principal_rule=s.principal_rule,
        priority=s.priority, features=structure.features_of("B")) for s in classes()),
        reserve_balance_cents=structure.reserve.initial_deposit_cents if structure.reserve else 0)
    for number in range(1, months + 1):
        loans = [seed_loan(f"L{i:03d}", realized_loss_cents=loss if i == number else 0,
                           interest_cents=50_000 - (short_interest if i == 2 else 0)) for i in range(1, 11)]
        figures = close_figures(loans=loans, carried=carried, issuer_spread_rate=Decimal("0.6"), scheduled=False,
                                original_faces=FACES, holders=HOLDERS, structure=structure,
                                standing=PeriodStanding(period_number=number, cutoff_balance_cents=100_000_000,
                                                        delinquent_60_cents=number * 1_000_000))
        figures.check_reconciliation()
        for append in close_appends(context(), figures):
            for event in append.events:
                assert sum(line.amount_cents for line in event.postings) == 0, event.event_type
        carried = carried_after(figures, carried)
