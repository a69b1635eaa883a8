"""The close's events: each class round-trips, each upcaster reads the payloads the close wrote before events
were typed, and the close built from typed events records the same figures as before.

The V1_ payloads below are what the close wrote before this change (`remittance.domain.close_events` at the commit
before typed events), for the seed's first month closed on the figures of `_sample_close`: version 1, no
`schema_version`, the class under "class". They are the stored shape the upcasters must keep reading.
"""
from __future__ import annotations

import copy
from dataclasses import fields, replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings

from ledger.events import EventSchemaError, class_for, decode
from ledger.domain.records import RecordedEvent
from remittance.domain.close_events import CloseContext, close_appends, period_closed
from remittance.domain.close_figures import Carried, close_figures
from remittance.events import (
    CLOSE_EVENTS, ClassDistributed, ClassLine, CollectionsRemitted, DistributionPaid, ExcessPaid, IssuerSpreadPaid,
    FIELDS_ADDED_IN_V3, STANDARD_CLASS_V3, STANDARD_DEAL_V3, PeriodClosed, ServicingFeePaid,
)
from remittance.domain.waterfall import ClassState
from tests.unit.remittance.test_closing import SEED_FACE, periods, seed_loan, seed_period_closed

V1_COLLECTIONS_REMITTED = {'trust': 'SEED-2026-1',
                           'period': '2026-02',
                           'collected': {'interest': 48800,
                                         'repurchase_interest': 0,
                                         'scheduled_principal': 10255,
                                         'curtailment': 0,
                                         'payoff_principal': 0,
                                         'repurchase_principal': 0,
                                         'liquidation_principal': 0,
                                         'realized_loss': 0},
                           'prior_period_cents': 0,
                           'advanced_cents': 0,
                           'recovered_cents': 0,
                           'returns_carried_in_cents': 0,
                           'returns_outstanding_cents': 0,
                           'servicer_remits_cents': 59055}
V1_CLASS_DISTRIBUTED = {'trust': 'SEED-2026-1',
                        'period': '2026-02',
                        'class': 'A',
                        'coupon': 'net-wac',
                        'balance_begin_cents': 100000000,
                        'interest_due_cents': 33800,
                        'interest_paid_cents': 33800,
                        'interest_shortfall_cents': 0,
                        'principal_paid_cents': 10255,
                        'loss_written_off_cents': 0,
                        'balance_end_cents': 99989745,
                        'factor': '0.99989745',
                        'paid_to_holders_cents': 22027,
                        'payment_date': '2026-03-25'}
V1_DISTRIBUTION_PAID = {'trust': 'SEED-2026-1',
                        'period': '2026-02',
                        'class': 'A',
                        'face_held_cents': 50000000,
                        'interest_cents': 16900,
                        'principal_cents': 5127,
                        'record_date': '2026-02-27',
                        'payment_date': '2026-03-25'}
V1_PERIOD_CLOSED = {'trust': 'SEED-2026-1',
                    'period': '2026-02',
                    'record_date': '2026-02-27',
                    'payment_date': '2026-03-25',
                    'window': {'after_position': 80, 'through_position': 120},
                    'collected': {'interest': 48800,
                                  'repurchase_interest': 0,
                                  'scheduled_principal': 10255,
                                  'curtailment': 0,
                                  'payoff_principal': 0,
                                  'repurchase_principal': 0,
                                  'liquidation_principal': 0,
                                  'realized_loss': 0},
                    'prior_period_cents': 0,
                    'advanced_cents': 0,
                    'recovered_cents': 0,
                    'advances_outstanding': {},
                    'returns_carried_in_cents': 0,
                    'returns_new_cents': 0,
                    'returns_recovered_cents': 0,
                    'returns_outstanding_cents': 0,
                    'returns_outstanding': [0, 0],
                    'interest_available_cents': 48800,
                    'principal_available_cents': 10255,
                    'realized_loss_cents': 0,
                    'servicing_fee_cents': 5000,
                    'issuer_spread_cents': 10000,
                    'fee_due_cents': 5000,
                    'fee_paid_cents': 5000,
                    'fee_shortfall_cents': 0,
                    'spread_due_cents': 10000,
                    'spread_paid_cents': 10000,
                    'spread_shortfall_cents': 0,
                    'classes': [{'class': 'A',
                                 'coupon': 'net-wac',
                                 'balance_begin_cents': 100000000,
                                 'interest_due_cents': 33800,
                                 'interest_paid_cents': 33800,
                                 'interest_shortfall_cents': 0,
                                 'principal_paid_cents': 10255,
                                 'loss_written_off_cents': 0,
                                 'balance_end_cents': 99989745,
                                 'factor': '0.99989745'}],
                    'excess_interest_cents': 0,
                    'excess_principal_cents': 0,
                    'unabsorbed_loss_cents': 0,
                    'paid_to_holders_cents': 22027,
                    'holder_payments': 1,
                    'retained_cents': 22028,
                    'pool_balance_begin_cents': 20000000,
                    'pool_balance_end_cents': 19980090,
                    'pool_original_cents': 100000000,
                    'pool_factor': '0.19980090',
                    'reconciliation': {'cash_in_cents': 59055, 'out_cents': 59055},
                    'requested_by': 'ana',
                    'approved_by': 'chen'}


def _sample_close():
    loans = [seed_loan("L001"), seed_loan("L002", interest_cents=-1200, scheduled_principal_cents=300)]
    figures = close_figures(
        loans=loans, carried=Carried(classes=(ClassState(name="A", balance_cents=SEED_FACE, coupon=None),)),
        issuer_spread_rate=Decimal("0.6"), scheduled=False, original_faces={"A": SEED_FACE},
        holders={"A": {"INV-01": SEED_FACE // 2}})
    context = CloseContext(
        trust_code="SEED-2026-1", period="2026-02", record_date=date(2026, 2, 27), payment_date=date(2026, 3, 25),
        through_position=120, previous_through=80, original_faces={"A": SEED_FACE}, coupons={"A": "net-wac"},
        pool_original_cents=SEED_FACE, requested_by="ana", approved_by="chen")
    return context, figures


def _recorded(event_type: str, payload: dict) -> RecordedEvent:
    return RecordedEvent(position=1, stream="remittance:SEED-2026-1", version=1, event_type=event_type,
                         payload=payload, effective_date=date(2026, 3, 25),
                         recorded_at=datetime(2026, 3, 25, 9, tzinfo=timezone.utc), acting_user_id=None,
                         idempotency_key=None, previous_hash="", hash="")


def _appended_events():
    context, figures = _sample_close()
    return [event for append in close_appends(context, figures) for event in append.events]


def test_every_event_the_close_appends_is_a_declared_class_and_round_trips():
    events = _appended_events()
    assert [e.event_type for e in events] == ["CollectionsRemitted", "ServicingFeePaid", "IssuerSpreadPaid",
                                              "ClassDistributed", "PeriodClosed", "DistributionPaid"]
    for event in events:
        cls = class_for(event.event_type)
        assert cls in CLOSE_EVENTS
        typed = cls.from_payload(event.payload)
        assert typed.to_payload() == event.payload
        assert cls.from_payload(typed.to_payload()) == typed
        assert event.payload.get("schema_version", 1) == cls.schema_version


def test_excess_paid_round_trips():
    excess = ExcessPaid(trust="SEQ-2026-1", period="2026-05", interest_cents=1_234, principal_cents=0)
    assert excess.to_payload() == {"trust": "SEQ-2026-1", "period": "2026-05", "interest_cents": 1_234,
                                   "principal_cents": 0}  # version 1: no schema_version key
    assert ExcessPaid.from_payload(excess.to_payload()) == excess


def test_fee_and_spread_keep_their_version_one_shape():
    for cls in (ServicingFeePaid, IssuerSpreadPaid):
        stored = {"trust": "SEED-2026-1", "period": "2026-02", "due_cents": 5000, "paid_cents": 4000,
                  "shortfall_cents": 1000}
        assert cls.from_payload(stored).to_payload() == stored


@settings(max_examples=100, deadline=None)
@given(periods())
def test_any_closes_period_closed_round_trips(period):
    figures, closed = seed_period_closed(*period)
    assert PeriodClosed.from_payload(closed.to_payload()) == closed
    assert [c.class_name for c in closed.classes] == [c.name for c in figures.waterfall.classes]


# --- Upcasters ------------------------------------------------------------------------------------------------


def test_a_version_one_period_closed_reads_as_the_close_records_it_now():
    stored = copy.deepcopy(V1_PERIOD_CLOSED)
    context, figures = _sample_close()
    closed = decode(_recorded("PeriodClosed", stored))
    # Same figures, read through the class; a close recorded before v3 did not record its period's number.
    assert closed == replace(period_closed(context, figures), period_number=0)
    assert closed.classes == (ClassLine(
        class_name="A", coupon="net-wac", balance_begin_cents=100_000_000, interest_due_cents=33_800,
        interest_paid_cents=33_800, interest_shortfall_cents=0, principal_paid_cents=10_255,
        loss_written_off_cents=0, balance_end_cents=99_989_745, factor="0.99989745"),)
    assert closed.record_date == date(2026, 2, 27) and closed.window.through_position == 120
    assert (closed.requested_by, closed.approved_by) == ("ana", "chen")
    assert stored == V1_PERIOD_CLOSED  # the stored payload is never changed


def test_the_version_three_payload_differs_from_version_one_only_where_the_upcasters_say():
    context, figures = _sample_close()
    v3 = period_closed(context, figures).to_payload()
    assert v3.pop("schema_version") == 3
    # v2 -> v3: the standard deal's structure figures (its period's number aside, which v2 did not record).
    added = {name: v3.pop(name) for name in FIELDS_ADDED_IN_V3}
    assert added == {**STANDARD_DEAL_V3, "period_number": 1}
    assert all({k: c.pop(k) for k in STANDARD_CLASS_V3} == STANDARD_CLASS_V3 for c in v3["classes"])
    v3["classes"] = [{("class" if k == "class_name" else k): v for k, v in c.items()} for c in v3["classes"]]
    assert v3 == V1_PERIOD_CLOSED


def test_a_close_recorded_before_returns_were_carried_reads_as_nothing_carried():
    returns = ("returns_carried_in_cents", "returns_new_cents", "returns_recovered_cents",
               "returns_outstanding_cents", "returns_outstanding")
    older = {k: v for k, v in V1_PERIOD_CLOSED.items() if k not in (*returns, "requested_by", "approved_by")}
    older["classes"] = [{**V1_PERIOD_CLOSED["classes"][0], "factor": "0E-8", "balance_end_cents": 0}]
    older["pool_factor"] = "0E-8"
    closed = PeriodClosed.from_payload(older)
    assert (closed.returns_carried_in_cents, closed.returns_new_cents, closed.returns_recovered_cents,
            closed.returns_outstanding_cents, closed.returns_outstanding) == (0, 0, 0, 0, (0, 0))
    assert closed.classes[0].factor == "0.00000000" and closed.pool_factor == "0.00000000"
    assert (closed.requested_by, closed.approved_by) == (None, None)


def test_a_version_one_class_distributed_names_its_class():
    stored = copy.deepcopy(V1_CLASS_DISTRIBUTED)
    event = ClassDistributed.from_payload(stored)
    assert event.class_name == "A" and event.payment_date == date(2026, 3, 25) and event.factor == "0.99989745"
    assert event.to_payload() == {**{k: v for k, v in V1_CLASS_DISTRIBUTED.items() if k != "class"},
                                  "class_name": "A", **STANDARD_CLASS_V3, "schema_version": 3}
    assert stored == V1_CLASS_DISTRIBUTED
    (now,) = [e for e in _appended_events() if e.event_type == "ClassDistributed"]
    assert ClassDistributed.from_payload(now.payload) == event


def test_a_version_one_distribution_paid_names_its_class():
    event = DistributionPaid.from_payload(V1_DISTRIBUTION_PAID)
    assert (event.class_name, event.face_held_cents, event.interest_cents, event.principal_cents,
            event.record_date) == ("A", 50_000_000, 16_900, 5_127, date(2026, 2, 27))
    (now,) = [e for e in _appended_events() if e.event_type == "DistributionPaid"]
    assert DistributionPaid.from_payload(now.payload) == event


def test_a_version_one_collections_remitted_reads_with_and_without_its_returns_figures():
    assert CollectionsRemitted.from_payload(V1_COLLECTIONS_REMITTED).servicer_remits_cents == 59_055
    older = {k: v for k, v in V1_COLLECTIONS_REMITTED.items()
             if k not in ("returns_carried_in_cents", "returns_outstanding_cents")}
    event = CollectionsRemitted.from_payload(older)
    assert (event.returns_carried_in_cents, event.returns_outstanding_cents) == (0, 0)
    assert event == CollectionsRemitted.from_payload(V1_COLLECTIONS_REMITTED)


def test_a_period_closed_missing_a_figure_is_refused_naming_it():
    broken = {k: v for k, v in V1_PERIOD_CLOSED.items() if k != "retained_cents"}
    with pytest.raises(EventSchemaError, match="retained_cents"):
        PeriodClosed.from_payload(broken)


def test_period_closed_declares_exactly_the_figures_the_close_wrote():
    assert [f.name for f in fields(PeriodClosed)] == [*V1_PERIOD_CLOSED, *FIELDS_ADDED_IN_V3]
