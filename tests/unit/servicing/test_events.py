"""The loan-stream event classes: every one round-trips through its stored JSON, and every version 1 payload
(the shapes the services wrote before events were typed, with their `position_after` snapshots) is read by
the current class and folds to the very position its snapshot recorded, by the snapshot and by the decision
the upcaster recovered from its facts."""
import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from ledger.events import EventSchemaError, class_for, decode
from ledger.domain.records import RecordedEvent
from servicing import events as ev

D = date.fromisoformat


@dataclass
class Pos:
    """A loan position as a fold sees it (the attributes of LoanPosition)."""

    principal_balance_cents: int = 10_000_000
    next_due_date: date = D("2026-02-01")
    last_payment_date: date | None = None
    suspense_cents: int = 0
    escrow_balance_cents: int = 0
    escrow_advance_cents: int = 10_000
    late_charges_due_cents: int = 2_998
    fees_due_cents: int = 0
    escrow_monthly_cents: int = 25_000
    status: str = "active"
    delinquency_bucket: str = "30"
    realized_loss_cents: int = 0
    deferred_principal_cents: int = 0
    loss_mitigation: str = ""
    note_rate: Decimal = Decimal("6")
    payment_pi_cents: int = 59_955


def snapshot(p: Pos, **changes) -> dict:
    """A v1 `position_after` exactly as servicing.services.loan_events.position_after wrote it."""
    fields = {name: getattr(p, name) for name in ev.POSITION_FIELDS}
    fields.update(changes)
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in fields.items()}


def state(snap: dict) -> Pos:
    return ev.copy_snapshot(Pos(), snap)


def collections_v1(**amounts) -> dict:
    return {key: amounts.get(key.removesuffix("_cents"), 0) for key in ev.COLLECTION_KEYS}


P0 = Pos()
ZERO = collections_v1()
REQUEST = {"loan_number": "L001", "reference": "B1", "amount_cents": 88_053, "received_on": "2026-02-03",
           "principal_only": False}
PAID = snapshot(P0, principal_balance_cents=9_990_045, next_due_date="2026-03-01", suspense_cents=100,
                escrow_balance_cents=15_000, escrow_advance_cents=0, late_charges_due_cents=0,
                last_payment_date="2026-02-03")
DISPOSITION = {
    "gross_proceeds_cents": 8_000_000, "escrow_applied_cents": 0, "suspense_applied_cents": 0, "costs_cents": 500_000,
    "costs_paid_cents": 500_000, "advance_recovered_cents": 10_000, "accrual_start": "2026-01-01",
    "interest_days": 150, "interest_due_cents": 250_000, "interest_cents": 250_000,
    "principal_balance_cents": 10_000_000, "principal_recovered_cents": 7_240_000, "late_charges_recovered_cents": 0,
    "fees_recovered_cents": 0, "refund_to_borrower_cents": 0, "realized_loss_cents": 2_760_000,
    "advance_written_off_cents": 0, "late_charges_written_off_cents": 2_998, "fees_written_off_cents": 0,
}
CLOSED = dict(principal_balance_cents=0, escrow_balance_cents=0, escrow_advance_cents=0, suspense_cents=0,
              late_charges_due_cents=0, fees_due_cents=0)

# (event type, v1 payload as the services wrote it, the position before it).
V1 = [
    ("PaymentPosted", {
        **REQUEST,
        "application": {"interest_cents": 50_000, "principal_cents": 9_955, "curtailment_cents": 0,
                        "escrow_cents": 25_000, "escrow_advance_repaid_cents": 10_000, "escrow_deposit_cents": 15_000,
                        "late_charges_cents": 2_998, "fees_cents": 0, "to_suspense_cents": 100,
                        "from_suspense_cents": 0, "installments_paid": 1, "due_dates_paid": ["2026-02-01"]},
        "collections": collections_v1(interest=50_000, scheduled_principal=9_955),
        "position_before": snapshot(P0), "position_after": PAID,
    }, P0),
    ("PaymentReturned", {
        "loan_number": "L001", "reference": "B1", "returned_on": "2026-02-06", "reason": "NSF",
        "amount_cents": 88_053, "received_on": "2026-02-03", "returned_event_position": 7, "fee_cents": 2_500,
        "collections": collections_v1(interest=-50_000, scheduled_principal=-9_955),
        "position_before": PAID,
        "position_after": snapshot(P0, fees_due_cents=2_500), "requested_by": "ops", "approved_by": "lead",
    }, state(PAID)),
    ("LoanPaidOff", {
        **REQUEST, "amount_cents": 10_100_000,
        "payoff": {"principal_cents": 10_000_000, "interest_cents": 50_000, "interest_days": 30,
                   "accrual_start": "2026-01-01", "per_diem_interest": "1666.666666666666666666666667",
                   "late_charges_cents": 2_998, "fees_cents": 0, "escrow_advance_cents": 10_000,
                   "escrow_applied_cents": 0, "suspense_applied_cents": 0, "quote_total_cents": 10_062_998,
                   "refund_to_borrower_cents": 37_002},
        "collections": collections_v1(interest=50_000, payoff_principal=10_000_000),
        "position_before": snapshot(P0),
        "position_after": snapshot(P0, **CLOSED, status="paid_off", last_payment_date="2026-02-03"),
    }, P0),
    ("BorrowerRefundPaid", {
        "loan_number": "L001", "reference": "B1", "refund_cents": 37_002, "paid_on": "2026-02-03",
        "collections": ZERO, "position_after": snapshot(P0, **CLOSED, status="paid_off",
                                                        last_payment_date="2026-02-03"),
    }, state(snapshot(P0, **CLOSED, status="paid_off", last_payment_date="2026-02-03"))),
    ("DelinquencyChanged", {
        "from_bucket": "30", "to_bucket": "60", "next_due_date": "2026-02-01", "days_delinquent": 60,
        "collections": ZERO, "position_after": snapshot(P0, delinquency_bucket="60"),
    }, P0),
    ("LateChargeAssessed", {
        "due_date": "2026-03-01", "amount_cents": 2_998, "rate_percent": "5", "grace_days": 15,
        "payment_pi_cents": 59_955, "collections": ZERO,
        "position_after": snapshot(P0, late_charges_due_cents=5_996),
    }, P0),
    ("EscrowItemAdded", {
        "kind": "property_tax", "payee": "County", "annual_amount_cents": 240_001,
        "due_dates": ["2026-03-01", "2026-09-01"],
        "installments": [{"due_date": "2026-03-01", "amount_cents": 120_001},
                         {"due_date": "2026-09-01", "amount_cents": 120_000}],
        "collections": ZERO, "position_after": snapshot(P0),
    }, P0),
    ("EscrowDisbursed", {
        "kind": "property_tax", "payee": "County", "due_date": "2026-03-01", "amount_cents": 120_001,
        "from_escrow_cents": 0, "advanced_cents": 120_001, "collections": ZERO,
        "position_after": snapshot(P0, escrow_advance_cents=130_001),
    }, P0),
    ("EscrowAnalyzed", {
        "computation_year_start": "2026-04-01", "analyzed_on": "2026-03-15", "delinquency_bucket": "current",
        "borrower_current": True, "escrow_balance_cents": 80_000, "escrow_advance_cents": 0,
        "previous_monthly_escrow_cents": 25_000,
        "items": [{"kind": "property_tax", "payee": "County", "annual_amount_cents": 120_000,
                   "disbursement_dates": ["2026-09-01"]}],
        "escrow_balance_cents_opening": 80_000, "annual_disbursements_cents": 120_000, "cushion_cents": 20_000,
        "base_monthly_escrow_cents": 10_000, "projected_low_point_cents": 80_000, "deficiency_cents": 0,
        "shortage_cents": 0, "surplus_cents": 60_000, "surplus_refund_cents": 60_000, "surplus_credit_cents": 0,
        "new_monthly_escrow_cents": 10_000, "monthly_escrow_payments_cents": [10_000] * 12,
        "projection": [{"month_start": "2026-04-01", "deposit_cents": 10_000, "disbursements_cents": 0,
                        "balance_cents_closing": 90_000}],
        "collections": ZERO,
        "position_after": snapshot(Pos(escrow_balance_cents=80_000, escrow_advance_cents=0),
                                   escrow_balance_cents=20_000, escrow_monthly_cents=10_000),
    }, Pos(escrow_balance_cents=80_000, escrow_advance_cents=0)),
    ("ForeclosureStarted", {
        "started_on": "2026-06-02", "days_delinquent": 121, "next_due_date": "2026-02-01", "collections": ZERO,
        "position_after": snapshot(P0, status="foreclosure"),
    }, P0),
    ("ReoAcquired", {
        "acquired_on": "2026-08-01", "foreclosure_started_on": "2026-06-02", "collections": ZERO,
        "position_after": snapshot(P0, status="reo"),
    }, Pos(status="foreclosure")),
    ("LoanLiquidated", {
        "on": "2026-06-01", "status_before": "reo", **DISPOSITION,
        "collections": collections_v1(interest=250_000, liquidation_principal=7_240_000, realized_loss=2_760_000),
        "position_after": snapshot(P0, **CLOSED, status="liquidated", realized_loss_cents=2_760_000),
    }, Pos(status="reo")),
    ("LoanChargedOff", {
        "on": "2026-06-01", "status_before": "foreclosure", **DISPOSITION, "gross_proceeds_cents": 0,
        "costs_cents": 0, "collections": collections_v1(realized_loss=2_760_000),
        "position_after": snapshot(P0, **CLOSED, status="charged_off", realized_loss_cents=2_760_000),
    }, Pos(status="foreclosure")),
]


def copy(p: Pos) -> Pos:
    return dataclasses.replace(p)


@pytest.mark.parametrize("event_type,payload,before", V1, ids=[t for t, *_ in V1])
def test_a_v1_payload_is_read_by_the_current_class_and_folds_to_its_snapshot(event_type, payload, before):
    cls = class_for(event_type)
    fact = cls.from_payload(json.loads(json.dumps(payload)))
    assert isinstance(fact, cls) and cls.schema_version == 2
    assert fact.legacy_position_after == payload["position_after"]
    expected = state(payload["position_after"]) if set(payload["position_after"]) == set(ev.POSITION_FIELDS) else None
    assert fact.fold_into(copy(before)) == expected
    # The decision the upcaster recovered from the v1 facts folds to the same position, except for a
    # return, whose v1 payload held its result only as the snapshot.
    decided = dataclasses.replace(fact, legacy_position_after=None)
    if event_type == "PaymentReturned":
        assert decided.reversal is None
        with pytest.raises(ValueError, match="holds neither its reversal nor a snapshot"):
            decided.fold_into(copy(before))
    else:
        assert decided.fold_into(copy(before)) == expected


def test_a_v1_payment_keeps_the_due_dates_of_its_snapshots_for_a_return():
    payload = V1[0][1]
    fact = ev.PaymentPosted.from_payload(payload)
    assert fact.application.next_due_date_before == D("2026-02-01")
    assert fact.application.next_due_date_after == D("2026-03-01")
    assert fact.principal_paid_cents == 9_955
    # The reversal a return records of it gives back exactly what its snapshots moved.
    reversal = ev.reversal_of(fact, next_due_date_now=D("2026-03-01"), last_payment_standing=None)
    before, after = payload["position_before"], payload["position_after"]
    assert reversal.balance_changes() == {name: before[name] - after[name] for name in ev.BALANCE_FIELDS}
    assert reversal.next_due_date == D("2026-02-01")
    # A later payment moved the due date on: the return moves it back by the installments it paid.
    later = ev.reversal_of(fact, next_due_date_now=D("2026-05-01"), last_payment_standing=D("2026-04-01"))
    assert later.next_due_date == D("2026-04-01") and later.last_payment_date == D("2026-04-01")


def test_a_v1_payload_read_through_the_log_decodes_by_its_event_type():
    payload = V1[4][1]
    record = RecordedEvent(position=9, stream="loan:L001", version=3, event_type="DelinquencyChanged",
                           payload=payload, effective_date=D("2026-04-01"), recorded_at=None, acting_user_id=None,
                           idempotency_key=None, previous_hash="0" * 64, hash="1" * 64, postings=())
    assert decode(record) == ev.loan_fact(record) == ev.DelinquencyChanged.from_payload(payload)
    assert ev.collections_of(record) == ev.Collections()


def _new_events() -> list[ev.LoanFact]:
    """One event of every class, as the services now build them."""
    applied = ev.PaymentApplied(
        interest_cents=50_000, principal_cents=9_955, curtailment_cents=0, escrow_cents=25_000,
        escrow_advance_repaid_cents=10_000, escrow_deposit_cents=15_000, late_charges_cents=2_998, fees_cents=0,
        to_suspense_cents=100, from_suspense_cents=0, installments_paid=1, due_dates_paid=(D("2026-02-01"),),
        next_due_date_after=D("2026-03-01"), next_due_date_before=D("2026-02-01"))
    payoff = ev.PayoffSettled(**{**V1[2][1]["payoff"], "accrual_start": D("2026-01-01"),
                                 "per_diem_interest": Decimal("1666.666666666666666666666667")})
    analyzed = V1[8][1]
    disposition = {**DISPOSITION, "accrual_start": D("2026-01-01")}
    return [
        ev.LoanBoarded(loan_number="L001", borrower_name="Ada", property_address="1 Main St",
                       property_type="residential", property_value_cents=12_500_000,
                       original_balance_cents=10_000_000, current_balance_cents=10_000_000, note_rate=Decimal("6"),
                       term_months=360, first_payment_date=D("2026-02-01"), next_due_date=D("2026-02-01"),
                       servicing_fee_rate=Decimal("0.25"), escrow_monthly_cents=25_000, autopay=True,
                       payment_pi_cents=59_955),
        ev.PaymentPosted(loan_number="L001", reference="B1", amount_cents=88_053, received_on=D("2026-02-03"),
                         principal_only=False, application=applied,
                         collections=ev.Collections(interest_cents=50_000, scheduled_principal_cents=9_955)),
        ev.LoanPaidOff(loan_number="L001", reference="B1", amount_cents=10_100_000, received_on=D("2026-02-03"),
                       principal_only=False, payoff=payoff,
                       collections=ev.Collections(interest_cents=50_000, payoff_principal_cents=10_000_000)),
        ev.BorrowerRefundPaid(loan_number="L001", reference="B1", refund_cents=37_002, paid_on=D("2026-02-03")),
        ev.PaymentReturned(loan_number="L001", reference="B1", returned_on=D("2026-02-06"), reason="NSF",
                           amount_cents=88_053, received_on=D("2026-02-03"), returned_event_position=7,
                           fee_cents=2_500, collections=ev.Collections(interest_cents=-50_000),
                           requested_by="ops", approved_by=None,
                           reversal=ev.PaymentReversed(9_955, -100, -15_000, 10_000, 2_998, 0, D("2026-02-01"), None)),
        ev.DelinquencyChanged(from_bucket="30", to_bucket="60", next_due_date=D("2026-02-01"), days_delinquent=60),
        ev.LateChargeAssessed(due_date=D("2026-03-01"), amount_cents=2_998, rate_percent=Decimal("5"), grace_days=15,
                              payment_pi_cents=59_955),
        ev.EscrowItemAdded(kind="property_tax", payee="County", annual_amount_cents=240_001,
                           due_dates=(D("2026-03-01"), D("2026-09-01")),
                           installments=(ev.EscrowInstallment(D("2026-03-01"), 120_001),
                                         ev.EscrowInstallment(D("2026-09-01"), 120_000))),
        ev.EscrowDisbursed(kind="property_tax", payee="County", due_date=D("2026-03-01"), amount_cents=120_001,
                           from_escrow_cents=0, advanced_cents=120_001),
        ev.EscrowAnalyzed.from_payload({k: v for k, v in analyzed.items() if k != "position_after"}),
        ev.ForeclosureStarted(started_on=D("2026-06-02"), days_delinquent=121, next_due_date=D("2026-02-01")),
        ev.ReoAcquired(acquired_on=D("2026-08-01"), foreclosure_started_on=None),
        ev.LoanLiquidated(on=D("2026-06-01"), status_before="reo", **disposition),
        ev.LoanChargedOff(on=D("2026-06-01"), status_before="foreclosure", **disposition),
        ev.LoanTermsChanged(loan_number="L001", reason="arm_reset", change_date=D("2031-01-01"),
                            first_due_date=D("2031-02-01"), first_installment=61, note_rate_before=Decimal("6"),
                            note_rate=Decimal("7.1250"), payment_pi_cents_before=59_955, payment_pi_cents=66_001,
                            scheduled_balance_cents=9_300_000, index="SOFR30A", index_date=D("2030-11-17"),
                            index_value=Decimal("4.37512"), fully_indexed_rate=Decimal("7.12512"),
                            notice_from=D("2030-10-04"), notice_by=D("2030-12-03")),
        *_loss_mitigation_events(),
        ev.BankruptcyFiled(case_number="26-1", chapter=13, court="D. Springfield", filed_on=D("2026-03-02")),
        *(cls(case_number="26-1", on=D("2026-06-01")) for cls in (
            ev.BankruptcyPlanConfirmed, ev.ReliefFromStayGranted, ev.BankruptcyDischarged, ev.BankruptcyDismissed)),
    ]


def _loss_mitigation_events() -> list[ev.LoanFact]:
    dues = (D("2026-03-01"), D("2026-04-01"))
    return [
        ev.ForbearanceStarted(started_on=D("2026-03-01"), months=2, reduced_payment_cents=0, covered_due_dates=dues),
        ev.ForbearanceEnded(ended_on=D("2026-04-20"), resolution="deferral"),
        ev.PaymentDeferred(deferred_on=D("2026-04-20"), due_dates=dues, principal_cents=20_005, interest_cents=99_905,
                           escrow_advance_cents=10_000, late_charges_waived_cents=2_998,
                           next_due_date_before=D("2026-03-01"), next_due_date_after=D("2026-05-01")),
        ev.RepaymentPlanStarted(started_on=D("2026-04-20"), months=2, arrears_cents=169_910,
                                regular_installment_cents=84_955, due_dates=(D("2026-05-01"), D("2026-06-01")),
                                amounts_cents=(169_910, 169_910)),
        ev.RepaymentPlanEnded(ended_on=D("2026-06-05"), kept=True, received_cents=(169_910, 339_820),
                              required_cents=(169_910, 339_820)),
        ev.TrialPlanStarted(started_on=D("2026-04-20"), months=2, payment_cents=70_000,
                            due_dates=(D("2026-05-01"), D("2026-06-01"))),
        ev.TrialPlanEnded(ended_on=D("2026-06-05"), kept=False, received_cents=(70_000, 70_000),
                          required_cents=(70_000, 140_000)),
        ev.LoanModified(modified_on=D("2026-06-20"), missed_due_dates=dues, principal_before_cents=10_000_000,
                        missed_interest_cents=100_000, escrow_advance_cents=10_000, fees_cents=0,
                        late_charges_waived_cents=2_998, principal_forbearance_cents=500_000, forgiven_cents=100_000,
                        principal_after_cents=9_510_000, note_rate=Decimal("4"), term_months=480,
                        first_payment_date=D("2026-07-01"), maturity_date=D("2066-06-01"), payment_pi_cents=39_747,
                        collections=ev.Collections(realized_loss_cents=100_000), requested_by="clara",
                        approved_by="chen"),
    ]


def test_a_modification_folds_its_decision():
    modified = _loss_mitigation_events()[-1]
    after = modified.fold_into(Pos())
    assert (after.principal_balance_cents, after.deferred_principal_cents, after.realized_loss_cents) == (
        9_510_000, 500_000, 100_000)
    assert (after.escrow_advance_cents, after.late_charges_due_cents, after.note_rate, after.payment_pi_cents,
            after.next_due_date, after.loss_mitigation) == (0, 0, Decimal("4"), 39_747, D("2026-07-01"), "modified")


@pytest.mark.parametrize("fact", _new_events(), ids=lambda f: f.event_type)
def test_every_event_class_round_trips_through_its_stored_json(fact):
    payload = json.loads(json.dumps(fact.to_payload()))
    assert type(fact).from_payload(payload) == fact
    assert "position_after" not in payload and "legacy_position_after" not in payload
    assert payload.get("schema_version", 1) == type(fact).schema_version
    event = fact.new_event(effective_date=D("2026-02-03"))
    assert event.event_type == fact.event_type and event.payload == fact.to_payload()


def test_every_event_type_of_a_loan_stream_has_a_class():
    assert {f.event_type for f in _new_events()} == ev.LOAN_EVENT_TYPES


def test_a_new_payment_folds_its_decision_with_exact_integer_arithmetic():
    payment = _new_events()[1]
    after = payment.fold_into(Pos())
    assert after == state(PAID)


def test_a_return_folds_back_to_the_position_before_its_payment_plus_its_fee():
    returned = _new_events()[4]
    assert returned.fold_into(state(PAID)) == dataclasses.replace(P0, fees_due_cents=2_500)


def test_a_payload_the_class_cannot_read_is_refused_naming_the_field():
    payload = {**V1[5][1], "amount_cents": "2998"}
    with pytest.raises(EventSchemaError, match="'amount_cents'"):
        ev.LateChargeAssessed.from_payload(payload)
    with pytest.raises(EventSchemaError, match="newer than this code"):
        ev.LateChargeAssessed.from_payload({**V1[5][1], "schema_version": 3})
