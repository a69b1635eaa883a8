"""The events of a structured deal's close (trustee fee, reserve account, accrual class, triggers, call),
built from synthetic figures: every event's postings sum to zero, the reserve and the trustee's accounts
move as the figures say, an accrual posts nothing, PeriodClosed v3 records every structure figure, and the
reconciliation holds with the trustee fee and the reserve in it (and names a figure that breaks it)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from ledger.events import class_for
from remittance.domain.close_events import CloseContext, close_appends, period_closed, reserve_account, trust_cash
from remittance.domain.close_figures import COLLECTION_KINDS, CloseFigures, HolderPayment
from remittance.domain.credit_support import TriggerStatus
from remittance.domain.waterfall import ClassResult, WaterfallResult
from remittance.events import (
    STANDARD_CLASS_V3, STANDARD_DEAL_V3, ClassDistributed, PeriodClosed, ReserveAccountMoved, TriggerTest,
    TrusteeFeePaid,
)

CODE = "STR-2026-1"

TRIGGERS = TriggerStatus(
    stepdown_reached=True, cumulative_loss_percent=Decimal("1.25"), cumulative_loss_limit=Decimal("1"),
    delinquency_60_percent=Decimal("3.3333333333333333"), delinquency_60_limit=Decimal("8"),
    delinquency_90_percent=Decimal(0), delinquency_90_limit=None, failed=True, in_effect=True,
    principal_rule="sequential",
)


def _context(period: str = "2026-02") -> CloseContext:
    return CloseContext(
        trust_code=CODE, period=period, record_date=date(2026, 2, 27), payment_date=date(2026, 3, 25),
        through_position=200, previous_through=100, original_faces={"A": 900_000, "Z": 100_000},
        coupons={"A": "4", "Z": "6"}, pool_original_cents=1_000_000,
    )


def _figures(**waterfall_changes: object) -> CloseFigures:
    """A first close: interest 10,000 and principal 50,000 collected; trustee fee 300, servicing fee 500,
    spread 200; A paid 4,000 interest and 50,000 + the Z's 1,000 accrual as principal; 2,000 of interest
    left into the reserve (funded with 5,000 at this close), 2,000 excess."""
    waterfall = WaterfallResult(
        interest_collected_cents=10_000, principal_collected_cents=50_000, realized_loss_cents=0,
        fee_due_cents=500, spread_due_cents=200, fee_paid_cents=500, spread_paid_cents=200,
        fee_shortfall_cents=0, spread_shortfall_cents=0,
        classes=(
            ClassResult(name="A", balance_begin_cents=900_000, interest_due_cents=4_000, interest_paid_cents=4_000,
                        interest_shortfall_carried_cents=0, principal_paid_cents=51_000, loss_written_off_cents=0,
                        balance_end_cents=849_000),
            ClassResult(name="Z", balance_begin_cents=100_000, interest_due_cents=0, interest_paid_cents=0,
                        interest_shortfall_carried_cents=0, principal_paid_cents=0, loss_written_off_cents=0,
                        balance_end_cents=101_000, interest_accrued_cents=1_000, kind="accrual"),
        ),
        excess_interest_cents=2_000, excess_principal_cents=0, unabsorbed_loss_cents=0,
        trustee_fee_due_cents=300, trustee_fee_paid_cents=300, accrual_cents=1_000,
        oc_target_cents=20_000, oc_end_cents=0, turbo_principal_cents=0,
        reserve_balance_begin_cents=5_000, reserve_deposit_cents=2_000, reserve_balance_end_cents=7_000,
        triggers=TRIGGERS,
    )
    waterfall = replace(waterfall, **waterfall_changes)  # type: ignore[arg-type]
    paid_a = waterfall.for_class("A")
    return CloseFigures(
        collected={**dict.fromkeys(COLLECTION_KINDS, 0), "interest": 10_000, "scheduled_principal": 50_000},
        prior_period_cents=0, advanced_cents=0, recovered_cents=0, advances_outstanding={},
        servicing_fee_due_cents=500, issuer_spread_due_cents=200, pool_balance_begin_cents=1_000_000,
        pool_balance_end_cents=950_000, waterfall=waterfall,
        payments=(HolderPayment(holder_code="INV-1", class_name="A", face_held_cents=900_000,
                                interest_cents=paid_a.interest_paid_cents,
                                principal_cents=paid_a.principal_paid_cents),),
        retained_cents=0, period_number=1, trustee_fee_due_cents=300, reserve_funded_cents=5_000,
        cumulative_loss_cents=0, trigger_failed=True,
    )


def _trust_events(figures: CloseFigures):
    appends = close_appends(_context(), figures)
    return [a for a in appends if a.stream == f"remittance:{CODE}"][0].events, appends


def _balances(appends) -> dict[str, int]:
    totals: dict[str, int] = {}
    for append in appends:
        for event in append.events:
            for line in event.postings:
                totals[line.account] = totals.get(line.account, 0) + line.amount_cents
    return {account: cents for account, cents in totals.items() if cents}


def test_a_structured_close_appends_the_trustee_fee_and_the_reserve_and_every_event_balances():
    events, appends = _trust_events(_figures())
    assert [e.event_type for e in events] == ["CollectionsRemitted", "ServicingFeePaid", "IssuerSpreadPaid",
                                              "TrusteeFeePaid", "ReserveAccountMoved", "ClassDistributed",
                                              "ClassDistributed", "ExcessPaid", "PeriodClosed"]
    for append in appends:
        for event in append.events:
            assert sum(line.amount_cents for line in event.postings) == 0, event.event_type
            typed = class_for(event.event_type).from_payload(event.payload)
            assert typed.to_payload() == event.payload
    balances = _balances(appends)
    assert balances[f"trustee:{CODE}:fees"] == 300
    assert balances[reserve_account(CODE)] == 7_000  # funded 5,000 + deposited 2,000
    assert balances[f"issuer:{CODE}:reserve_funding"] == -5_000
    assert balances[f"issuer:{CODE}:residual"] == 2_000
    assert trust_cash(CODE) not in balances  # every cent of the trust's cash went somewhere
    assert balances["holder:INV-1:cash"] == 55_000


def test_the_trustee_fee_and_reserve_events_say_what_moved():
    events, _ = _trust_events(_figures())
    by_type = {e.event_type: e for e in events}
    fee = TrusteeFeePaid.from_payload(by_type["TrusteeFeePaid"].payload)
    assert (fee.due_cents, fee.paid_cents, fee.shortfall_cents) == (300, 300, 0)
    reserve = ReserveAccountMoved.from_payload(by_type["ReserveAccountMoved"].payload)
    assert (reserve.balance_begin_cents, reserve.funded_cents, reserve.draw_cents, reserve.deposit_cents,
            reserve.released_cents, reserve.balance_end_cents) == (0, 5_000, 0, 2_000, 0, 7_000)


def test_an_accrual_is_no_cash_the_class_balance_grows_and_nothing_is_posted():
    events, _ = _trust_events(_figures())
    (z,) = [e for e in events if e.event_type == "ClassDistributed" and e.payload["class_name"] == "Z"]
    fact = ClassDistributed.from_payload(z.payload)
    assert (fact.kind, fact.interest_accrued_cents, fact.balance_end_cents) == ("accrual", 1_000, 101_000)
    assert z.postings == ()


def test_period_closed_v3_records_every_structure_figure():
    figures = _figures()
    closed = period_closed(_context(), figures)
    assert closed.period_number == 1
    assert (closed.trustee_fee_cents, closed.trustee_fee_due_cents, closed.trustee_fee_paid_cents,
            closed.trustee_fee_shortfall_cents) == (300, 300, 300, 0)
    assert closed.accrual_cents == 1_000 and closed.oc_target_cents == 20_000
    assert (closed.reserve_balance_begin_cents, closed.reserve_funded_cents, closed.reserve_deposit_cents,
            closed.reserve_balance_end_cents) == (5_000, 5_000, 2_000, 7_000)
    assert closed.triggers == TriggerTest(**{name: getattr(TRIGGERS, name) for name in TRIGGERS.__slots__})
    assert closed.trigger_failed is True
    assert closed.class_line("Z").kind == "accrual" and closed.class_line("Z").interest_accrued_cents == 1_000
    assert PeriodClosed.from_payload(closed.to_payload()) == closed  # Decimals exact through the payload
    assert closed.reconciliation.cash_in_cents == closed.reconciliation.out_cents == 60_000


def test_the_reconciliation_counts_the_trustee_fee_and_the_reserve():
    figures = _figures()
    assert figures.reconciliation().reconciled
    # A reserve draw brings cash in: paying it to a class with nothing else changed still reconciles.
    drawn = _figures(reserve_draw_cents=1_000, reserve_deposit_cents=0, reserve_balance_end_cents=4_000,
                     excess_interest_cents=5_000)
    assert drawn.reconciliation().reconciled
    assert not replace(drawn, waterfall=replace(drawn.waterfall, excess_interest_cents=4_000)).reconciliation(
    ).reconciled
    tampered = replace(figures, waterfall=replace(figures.waterfall, trustee_fee_paid_cents=301))
    assert not tampered.reconciliation().reconciled
    assert "trustee fee" in tampered.reconciliation().problems[0]


def test_the_reserve_released_at_the_call_goes_to_the_residual_holder():
    figures = _figures(reserve_balance_begin_cents=7_000, reserve_deposit_cents=0, reserve_released_cents=7_000,
                       reserve_balance_end_cents=0, excess_interest_cents=4_000, retired_by_call=True,
                       call_written_off_cents=12_345)
    figures = replace(figures, reserve_funded_cents=0, period_number=9)
    assert figures.reconciliation().reconciled
    events, appends = _trust_events(figures)
    reserve = [e for e in events if e.event_type == "ReserveAccountMoved"][0]
    assert {line.account: line.amount_cents for line in reserve.postings} == {
        reserve_account(CODE): -7_000, f"issuer:{CODE}:residual": 7_000}
    closed = PeriodClosed.from_payload(events[-1].payload)
    assert (closed.call_retired, closed.call_written_off_cents, closed.reserve_released_cents) == (True, 12_345, 7_000)


def test_a_standard_close_appends_neither_a_trustee_fee_nor_a_reserve_event():
    figures = _figures(trustee_fee_due_cents=0, trustee_fee_paid_cents=0, reserve_balance_begin_cents=0,
                       reserve_deposit_cents=0, reserve_balance_end_cents=0, excess_interest_cents=4_300)
    figures = replace(figures, reserve_funded_cents=0)
    events, _ = _trust_events(figures)
    assert "TrusteeFeePaid" not in [e.event_type for e in events]
    assert "ReserveAccountMoved" not in [e.event_type for e in events]


def test_a_version_two_class_distributed_and_period_closed_read_as_the_standard_deal():
    closed = period_closed(_context(), _figures())
    v2 = {k: v for k, v in closed.to_payload().items() if k not in STANDARD_DEAL_V3}
    v2["schema_version"] = 2
    v2["classes"] = [{k: v for k, v in c.items() if k not in STANDARD_CLASS_V3} for c in v2["classes"]]
    upcast = PeriodClosed.from_payload(v2)
    assert upcast.triggers is None and upcast.period_number == 0 and upcast.reserve_balance_end_cents == 0
    assert all(c.kind == "standard" and c.interest_accrued_cents == 0 for c in upcast.classes)
    line = {k: v for k, v in ClassDistributed(
        trust=CODE, period="2026-02", class_name="A", coupon="4", balance_begin_cents=1, interest_due_cents=0,
        interest_paid_cents=0, interest_shortfall_cents=0, principal_paid_cents=0, loss_written_off_cents=0,
        balance_end_cents=1, factor="1.00000000", paid_to_holders_cents=0, payment_date=date(2026, 3, 25),
    ).to_payload().items() if k not in STANDARD_CLASS_V3}
    line["schema_version"] = 2
    assert ClassDistributed.from_payload(line).kind == "standard"
