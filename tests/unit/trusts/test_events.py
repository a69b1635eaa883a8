"""The trusts' event classes: each round-trips through its stored payload, and every old payload is upcast."""
import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest

from ledger.events import class_for, decode
from ledger.domain.records import RecordedEvent
from trusts.domain.deal_structure import STANDARD_STRUCTURE, ClassFeatures, DealStructure
from trusts.domain.structure_json import structure_to_json
from trusts.events import (
    CertificatesIssued, ClassTerms, CleanUpCallExercised, HolderDetailsChanged, HolderRegistered, HoldingTransferred, IssuedHolding,
    PoolLoanRemoved, PoolLoansTransferred, RemovalProceedsTrued, TransferredLoan, TrustFormed,
)

FORMED = TrustFormed(
    code="XYZ-2026-1", name="XYZ Mortgage Trust", issuer="XYZ Issuer", servicer="XYZ Servicing", trustee="Bank",
    closing_date=date(2026, 1, 15), cutoff_date=date(2026, 1, 15), first_payment_date=date(2026, 2, 25),
    payment_day=25, issuer_spread_rate=Decimal("0.6000"), remittance_type="actual/actual",
    purchase_price_percent=Decimal("100"), residual_holder="XYZ Residual", overcollateralized=False,
    classes=(ClassTerms("A1", 60_000_00, Decimal("4.5"), "sequential", 1, 1_000_00),
             ClassTerms("B", 40_000_00, None, "pro-rata", 2, 1_000_00)),
)

EVERY_EVENT = [
    FORMED,
    PoolLoansTransferred(loans=(TransferredLoan("L001", 10_000_000, 9_950_000), TransferredLoan("L002", 1, 1))),
    PoolLoanRemoved(loan_number="L001", kind="repurchase", reason="breach", balance_cents=9_990_045,
                    proceeds_principal_cents=9_990_045, proceeds_interest_cents=31_635),
    RemovalProceedsTrued(loan_number="L001", kind="buyout", removal_position=41, removed_on=date(2026, 2, 20),
                         reference="BANK-1", returned_event_position=30, return_position=52,
                         returned_on=date(2026, 3, 2), principal_cents=9_955, interest_cents=50),
    CertificatesIssued(holdings=(IssuedHolding("INV-01", "A1", 30_000_00), IssuedHolding("INV-02", "B", 1_000_00))),
    HoldingTransferred(class_name="A1", from_holder="INV-01", to_holder="INV-02", face_cents=5_000_000,
                       trade_date=date(2026, 1, 28), settlement_date=date(2026, 2, 2)),
    HolderRegistered(code="INV-01", name="Investor 1"),
    CleanUpCallExercised(trust="XYZ-2026-1", call_date=date(2026, 3, 20), pool_balance_cents=9_990_045,
                         cutoff_balance_cents=100_000_000, percent=Decimal("12.5"), loans=("L010",),
                         price_cents=9_990_045, interest_cents=31_635, exercised_by="alice"),
    HolderDetailsChanged(code="INV-01", name="First Investor LLC", contact="ops@first.example", login_id=7,
                         login_name="alice"),
    HolderDetailsChanged(code="INV-01", name="First Investor LLC", contact="", login_id=None, login_name=None),
]


def _recorded(event_type: str, payload: dict) -> RecordedEvent:
    return RecordedEvent(position=1, stream="trust:X", version=1, event_type=event_type, payload=payload,
                         effective_date=date(2026, 1, 15), recorded_at=None, acting_user_id=None,
                         idempotency_key=None, previous_hash="", hash="")


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: type(e).__name__)
def test_each_event_round_trips_through_its_stored_payload(event):
    payload = event.to_payload()
    assert type(event).from_payload(payload) == event
    # The registry finds the class by its type, as a replay of the log does.
    assert class_for(event.event_type) is type(event)
    assert decode(_recorded(event.event_type, payload)) == event
    new = event.new_event(effective_date=date(2026, 1, 15))
    assert (new.event_type, new.payload) == (event.event_type, payload)


def test_the_deal_terms_keep_their_decimals_and_a_net_wac_class():
    payload = FORMED.to_payload()
    # What the log held before the classes existed: rates as text, a net-wac coupon as null.
    assert (payload["issuer_spread_rate"], payload["classes"][1]["coupon"]) == ("0.6000", None)
    formed = TrustFormed.from_payload(payload)
    assert formed.classes[0].coupon == Decimal("4.5") and formed.classes[1].is_net_wac
    assert payload["schema_version"] == 3 and payload["classes"][0]["cusip"] is None


def test_a_version_one_formation_had_no_cusips():
    stored = {k: v for k, v in FORMED.to_payload().items() if k != "schema_version"}
    stored["classes"] = [{k: v for k, v in c.items() if k != "cusip"} for c in stored["classes"]]
    formed = TrustFormed.from_payload(stored)
    assert formed == FORMED and all(c.cusip is None for c in formed.classes)
    assert "cusip" not in stored["classes"][0]  # the stored payload is not rewritten


def test_a_version_two_formation_is_the_standard_deal():
    stored = {**{k: v for k, v in FORMED.to_payload().items() if k != "structure"}, "schema_version": 2}
    formed = TrustFormed.from_payload(stored)
    assert formed == FORMED and formed.structure == {} and formed.deal_structure == STANDARD_STRUCTURE
    assert "structure" not in stored  # the stored payload is not rewritten


def test_a_formation_carries_its_structure_exactly():
    structure = DealStructure(
        steps=("trustee_fee", "servicing_fee", "spread", "interest", "principal", "losses", "excess"),
        trustee_fee_rate=Decimal("0.0100"),
        features={"A1": ClassFeatures(kind="pac", schedule=(5_000_000, 4_000_000), band=(Decimal(90), Decimal(300)))},
        cleanup_call_percent=Decimal("10"),
    )
    formed = dataclasses.replace(FORMED, structure=structure_to_json(structure))
    payload = formed.to_payload()
    assert payload["structure"]["trustee_fee_rate"] == "0.0100"
    again = decode(_recorded("TrustFormed", json.loads(json.dumps(payload))))
    assert again == formed and again.deal_structure == structure
    assert str(again.deal_structure.trustee_fee_rate) == "0.0100"


def test_a_version_one_issue_named_the_class_under_class():
    stored = {"holdings": [{"holder": "INV-01", "class": "A", "face_cents": 10_000_000}]}
    issued = CertificatesIssued.from_payload(stored)
    assert issued == CertificatesIssued(holdings=(IssuedHolding("INV-01", "A", 10_000_000),))
    assert stored == {"holdings": [{"holder": "INV-01", "class": "A", "face_cents": 10_000_000}]}  # not rewritten
    assert issued.to_payload() == {"holdings": [{"holder": "INV-01", "class_name": "A", "face_cents": 10_000_000}],
                                   "schema_version": 2}


def test_a_version_one_transfer_named_the_class_under_class():
    stored = {"class": "A", "from_holder": "INV-01", "to_holder": "INV-02", "face_cents": 5_000_000,
              "trade_date": "2026-01-28", "settlement_date": "2026-02-02"}
    assert HoldingTransferred.from_payload(stored) == HoldingTransferred(
        class_name="A", from_holder="INV-01", to_holder="INV-02", face_cents=5_000_000,
        trade_date=date(2026, 1, 28), settlement_date=date(2026, 2, 2))


@pytest.mark.parametrize("user, login_name", [("alice", "alice"), (None, None)])
def test_a_version_one_details_change_named_the_login_only(user, login_name):
    stored = {"code": "INV-01", "name": "Investor 1", "contact": "", "user": user}
    assert HolderDetailsChanged.from_payload(stored) == HolderDetailsChanged(
        code="INV-01", name="Investor 1", contact="", login_id=None, login_name=login_name)


def test_the_proceeds_of_a_removal_add_principal_and_interest():
    removed = EVERY_EVENT[2]
    assert removed.proceeds_cents == 9_990_045 + 31_635



def test_every_key_a_query_filters_by_is_a_field_of_its_class():
    """trusts.services.pool finds a loan's removals, a removal's true-ups and the payments a return took
    back by keys in the stored JSON: each class vouches for them, and each is one of its fields."""
    import dataclasses

    import servicing.events  # noqa: F401  (declares PaymentReturned)
    from ledger.events import declared_types

    vouched = {(cls.event_type, name) for cls in declared_types().values() for name in cls.stored_keys}
    assert {("PoolLoanRemoved", "loan_number"), ("RemovalProceedsTrued", "removal_position"),
            ("PaymentReturned", "returned_event_position")} <= vouched
    for cls in declared_types().values():
        assert cls.stored_keys <= {f.name for f in dataclasses.fields(cls)}, cls.event_type
