"""Escrow items, daily disbursement (from the balance, with advances, once only) and the annual analysis."""
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.business_time import business_day
from ledger.models import Event
from ledger.projections import differences
from ledger.domain.records import NewEvent
from ledger.selectors import account_balance
from ledger.services import append
from ledger.verification import verify
from servicing.domain import accounts
from servicing.errors import ServicingError, UnknownLoan
from servicing.domain.escrow_analysis import EscrowAnalysisItem
from servicing.domain.escrow_analysis import analyze_escrow
from servicing.models import EscrowItem, LoanPosition
from servicing.projections import HANDLERS, handles
from servicing.events import EscrowAnalyzed
from servicing.projections import copy_position_after
from servicing.services.loan_events import collections, position_after
from servicing.services.escrow import (
    escrow_analysis_run, escrow_disburse_due, escrow_item_add,
)
from servicing.tasks.escrow import disburse_escrow_task
from tests.actors import TESTS
from tests.integration.servicing.tapes import board

pytestmark = pytest.mark.django_db
L = "L001"
TAX = dict(kind="property_tax", payee="Springfield County Treasurer")
HAZARD = dict(kind="hazard_insurance", payee="Acme Mutual")

# Payment posting is written elsewhere; until then a test-only event funds escrow the way a payment's
# escrow part does (cash into custodial, credited to the loan's escrow).
if "EscrowFundedForTest" not in HANDLERS:
    handles("EscrowFundedForTest")(lambda position, event: copy_position_after(position, event.payload["position_after"]))


def fund_escrow(loan_number: str, cents: int, on: date = date(2026, 1, 20)) -> None:
    position = LoanPosition.objects.get(loan_id=loan_number)
    after = position_after(position, escrow_balance_cents=position.escrow_balance_cents + cents)
    append(stream=f"loan:{loan_number}", expected_version=position.stream_version, events=[NewEvent(
        event_type="EscrowFundedForTest", effective_date=on,
        payload={"collections": collections(), "position_after": after},
        postings=[(accounts.CUSTODIAL_CASH, cents), (accounts.escrow(loan_number), -cents)],
    )], acting_user=TESTS)


def position() -> LoanPosition:
    return LoanPosition.objects.get(loan_id=L)


def postings_of(event_type: str) -> list[dict[str, int]]:
    return [
        {p.account: p.amount_cents for p in e.postings.all()}
        for e in Event.objects.filter(event_type=event_type).order_by("position")
    ]


def test_an_escrow_item_is_a_row_and_an_event_without_postings():
    board()
    item = escrow_item_add(loan_number=L, **TAX, annual_amount_cents=240_001, due_dates=["2026-09-01", "2026-03-01"],
                           added_on=date(2026, 1, 20), acting_user=TESTS)
    assert item.due_dates == ["2026-03-01", "2026-09-01"]
    event = Event.objects.get(event_type="EscrowItemAdded")
    assert event.payload["installments"] == [
        {"due_date": "2026-03-01", "amount_cents": 120_001}, {"due_date": "2026-09-01", "amount_cents": 120_000},
    ]
    assert not event.postings.exists() and position().stream_version == 2
    assert differences() == []


@pytest.mark.parametrize("changes, message", [
    ({"kind": "pet_insurance"}, "kind 'pet_insurance' is not one of property_tax"),
    ({"payee": " "}, "the payee needs a name"),
    ({"annual_amount_cents": 0}, "annual amount 0 must be integer cents above zero"),
    ({"annual_amount_cents": "100.00"}, "annual amount '100.00' must be integer cents above zero"),
    ({"due_dates": []}, "give at least one due date"),
    ({"due_dates": ["2026-02-30"]}, "due date '2026-02-30' is not an ISO date"),
    ({"due_dates": ["2026-03-01", "2026-03-01"]}, "a due date is listed twice"),
    ({"due_dates": ["2026-03-01", "2027-03-01"]}, "due dates must fall within one year"),
    ({"due_dates": ["2026-01-01"]}, "due date 2026-01-01 is before the loan was boarded on 2026-01-15"),
])
def test_bad_escrow_items_are_refused_and_nothing_is_written(changes, message):
    board()
    before = Event.objects.count()
    args = {**TAX, "annual_amount_cents": 240_000, "due_dates": ["2026-03-01"], **changes}
    with pytest.raises(ServicingError, match=f"loan L001: escrow item refused: {message}"):
        escrow_item_add(loan_number=L, **args, acting_user=TESTS)
    assert Event.objects.count() == before and not EscrowItem.objects.exists()


def test_a_second_item_of_a_kind_and_unknown_loans_are_refused():
    board()
    escrow_item_add(loan_number=L, **TAX, annual_amount_cents=240_000, due_dates=["2026-03-01"], acting_user=TESTS)
    with pytest.raises(ServicingError, match="loan L001: escrow item refused: it already has a property tax item"):
        escrow_item_add(loan_number=L, **TAX, annual_amount_cents=1_000, due_dates=["2026-04-01"], acting_user=TESTS)
    with pytest.raises(UnknownLoan, match="loan X9 is not boarded"):
        escrow_item_add(loan_number="X9", **TAX, annual_amount_cents=1_000, due_dates=["2026-04-01"], acting_user=TESTS)
    assert EscrowItem.objects.count() == 1 and Event.objects.count() == 2


def test_with_no_escrow_the_servicer_advances_the_whole_bill():
    board()
    escrow_item_add(loan_number=L, **TAX, annual_amount_cents=240_000, due_dates=["2026-03-01", "2026-09-01"],
                    acting_user=TESTS)
    assert escrow_disburse_due(as_of=date(2026, 2, 28), acting_user=TESTS).disbursed == 0
    result = escrow_disburse_due(as_of=date(2026, 3, 1), acting_user=TESTS)
    assert (result.disbursed, result.amount_cents, result.advanced_cents) == (1, 120_000, 120_000)
    assert postings_of("EscrowDisbursed") == [
        {"loan:L001:escrow_advance": 120_000, accounts.CORPORATE_CASH: -120_000},
    ]
    event = Event.objects.get(event_type="EscrowDisbursed")
    assert event.idempotency_key == "escrow:L001:property_tax:2026-03-01"
    assert event.payload["collections"] == collections()
    assert (position().escrow_advance_cents, position().escrow_balance_cents) == (120_000, 0)
    assert verify().ok


def test_the_escrow_balance_pays_first_and_the_servicer_advances_the_shortfall():
    board()
    fund_escrow(L, 50_000)
    escrow_item_add(loan_number=L, **TAX, annual_amount_cents=240_000, due_dates=["2026-03-01", "2026-09-01"],
                    acting_user=TESTS)
    escrow_item_add(loan_number=L, **HAZARD, annual_amount_cents=30_000, due_dates=["2026-02-15"], acting_user=TESTS)
    result = escrow_disburse_due(as_of=date(2026, 3, 1), acting_user=TESTS)
    assert (result.disbursed, result.amount_cents, result.advanced_cents) == (2, 150_000, 100_000)
    assert postings_of("EscrowDisbursed") == [
        {"loan:L001:escrow": 30_000, accounts.CUSTODIAL_CASH: -30_000},
        {"loan:L001:escrow": 20_000, accounts.CUSTODIAL_CASH: -20_000,
         "loan:L001:escrow_advance": 100_000, accounts.CORPORATE_CASH: -100_000},
    ]
    assert (position().escrow_balance_cents, position().escrow_advance_cents) == (0, 100_000)
    assert account_balance("loan:L001:escrow") == 0
    assert differences() == []


def test_the_task_run_twice_pays_once_and_bills_recur_yearly():
    board()
    escrow_item_add(loan_number=L, **TAX, annual_amount_cents=240_000, due_dates=["2026-03-01", "2026-09-01"],
                    acting_user=TESTS)
    first = disburse_escrow_task.apply(kwargs={"as_of": "2026-09-30"}).get()
    again = disburse_escrow_task.apply(kwargs={"as_of": "2026-09-30"}).get()
    assert (first["disbursed"], first["amount_cents"]) == (2, 240_000)
    assert again == {**first, "disbursed": 0, "amount_cents": 0, "advanced_cents": 0, "loans": []}
    with business_day(date(2027, 3, 1)):
        assert escrow_disburse_due(as_of=date(2027, 3, 1),
                                   acting_user=TESTS).disbursed == 1  # next year's first installment
    assert Event.objects.filter(event_type="EscrowDisbursed").count() == 3
    assert position().escrow_advance_cents == 360_000


def items_for_analysis(tax_dates=("2026-03-01", "2026-09-01")):
    escrow_item_add(loan_number=L, **TAX, annual_amount_cents=240_000, due_dates=list(tax_dates), acting_user=TESTS)
    escrow_item_add(loan_number=L, **HAZARD, annual_amount_cents=120_000, due_dates=["2026-05-01"], acting_user=TESTS)


def test_an_outstanding_advance_is_a_negative_start_and_makes_a_shortage():
    board()
    items_for_analysis()
    escrow_disburse_due(as_of=date(2026, 3, 1), acting_user=TESTS)  # 1,200.00 advanced
    record = escrow_analysis_run(loan_number=L, computation_year_start=date(2026, 4, 1), analyzed_on=date(2026, 3, 15),
                                 acting_user=TESTS)
    p = record.payload
    assert p["escrow_balance_cents_opening"] == -120_000 and p["borrower_current"] is False
    assert [i["disbursement_dates"] for i in p["items"]] == [["2026-05-01"], ["2026-09-01", "2027-03-01"]]
    assert (p["annual_disbursements_cents"], p["base_monthly_escrow_cents"], p["cushion_cents"]) == (360_000, 30_000, 60_000)
    assert (p["projected_low_point_cents"], p["deficiency_cents"], p["shortage_cents"]) == (-180_000, 180_000, 240_000)
    assert (p["surplus_cents"], p["surplus_refund_cents"], p["new_monthly_escrow_cents"]) == (0, 0, 50_000)
    assert p["monthly_escrow_payments_cents"] == [50_000] * 12 and len(p["projection"]) == 12
    assert p["projection"][1] == {"month_start": "2026-05-01", "deposit_cents": 30_000,
                                  "disbursements_cents": 120_000, "balance_cents_closing": -180_000}
    expected = analyze_escrow(escrow_balance_cents=-120_000, computation_year_start=date(2026, 4, 1),
                              borrower_current=False, items=[
                                  EscrowAnalysisItem("hazard_insurance", 120_000, (date(2026, 5, 1),)),
                                  EscrowAnalysisItem("property_tax", 240_000, (date(2026, 9, 1), date(2027, 3, 1)))])
    assert p["projected_low_point_cents"] == expected.projected_low_point_cents
    event = Event.objects.get(event_type="EscrowAnalyzed")
    assert not event.postings.exists() and EscrowAnalyzed.from_payload(event.payload).new_monthly_escrow_cents == 50_000
    assert position().escrow_monthly_cents == 50_000 and differences() == []


def test_a_surplus_of_50_dollars_or_more_is_refunded_to_a_current_borrower():
    board()
    fund_escrow(L, 400_000)
    items_for_analysis()
    record = escrow_analysis_run(loan_number=L, computation_year_start=date(2026, 2, 1), analyzed_on=date(2026, 1, 20),
                                 acting_user=TESTS)
    p = record.payload
    assert (p["projected_low_point_cents"], p["surplus_cents"], p["surplus_refund_cents"]) == (280_000, 220_000, 220_000)
    assert (p["surplus_credit_cents"], p["new_monthly_escrow_cents"], p["borrower_current"]) == (0, 30_000, True)
    assert postings_of("EscrowAnalyzed") == [{"loan:L001:escrow": 220_000, accounts.CUSTODIAL_CASH: -220_000}]
    assert (position().escrow_balance_cents, position().escrow_monthly_cents) == (180_000, 30_000)
    assert account_balance("loan:L001:escrow") == -180_000
    again = escrow_analysis_run(loan_number=L, computation_year_start=date(2026, 2, 1), acting_user=TESTS)
    assert again.already_recorded and again.payload == p
    assert Event.objects.filter(event_type="EscrowAnalyzed").count() == 1
    assert verify().ok


def test_a_surplus_under_50_dollars_is_credited_to_the_coming_payments():
    board()
    fund_escrow(L, 183_000)
    items_for_analysis()
    p = escrow_analysis_run(loan_number=L, computation_year_start=date(2026, 2, 1), analyzed_on=date(2026, 1, 20),
                            acting_user=TESTS).payload
    assert (p["surplus_cents"], p["surplus_refund_cents"], p["surplus_credit_cents"]) == (3_000, 0, 3_000)
    assert p["monthly_escrow_payments_cents"] == [29_750] * 12
    assert not Event.objects.get(event_type="EscrowAnalyzed").postings.exists()
    assert (position().escrow_balance_cents, position().escrow_monthly_cents) == (183_000, 29_750)


def test_a_delinquent_borrower_surplus_is_credited_not_refunded():
    board()
    fund_escrow(L, 400_000)
    items_for_analysis()
    p = escrow_analysis_run(loan_number=L, computation_year_start=date(2026, 2, 1), analyzed_on=date(2026, 2, 28),
                            acting_user=TESTS).payload
    assert (p["delinquency_bucket"], p["surplus_refund_cents"], p["surplus_credit_cents"]) == ("30", 0, 220_000)
    assert p["monthly_escrow_payments_cents"] == [11_666] * 11 + [11_674]
    assert position().escrow_balance_cents == 400_000 and position().escrow_monthly_cents == 11_666


@pytest.mark.parametrize("loan, start, message", [
    ("X9", date(2026, 2, 1), "loan X9 is not boarded"),
    ("L001", date(2026, 2, 15), r"loan L001: escrow analysis refused: the computation year must start on an "
                                r"installment due date \(day 1\), not 2026-02-15"),
    ("L001", date(2026, 1, 1), "loan L001: escrow analysis refused: installments before 2026-02-01 are already paid"),
])
def test_analysis_refusals(loan, start, message):
    board()
    items_for_analysis()
    with pytest.raises(ServicingError, match=message):
        escrow_analysis_run(loan_number=loan, computation_year_start=start, acting_user=TESTS)
    assert not Event.objects.filter(event_type="EscrowAnalyzed").exists()


def test_analysis_without_items_is_refused():
    board()
    with pytest.raises(ServicingError, match="loan L001: escrow analysis refused: it has no escrow items"):
        escrow_analysis_run(loan_number=L, computation_year_start=date(2026, 2, 1), acting_user=TESTS)


def test_escrow_analysis_command_previews_and_records(capsys):
    board()
    fund_escrow(L, 400_000)
    items_for_analysis()
    args = [L, "--year-start", "2026-02-01", "--analyzed-on", "2026-01-20"]
    call_command("escrow_analysis", *args, "--preview")
    out = capsys.readouterr().out
    assert "(preview, nothing recorded)" in out and re.search(r"surplus refunded +2200\.00\n", out)
    assert not Event.objects.filter(event_type="EscrowAnalyzed").exists()
    call_command("escrow_analysis", *args)
    out = capsys.readouterr().out
    assert "(recorded)" in out and re.search(r"new monthly escrow +300\.00\n", out)
    assert re.search(r"\n  2026-03 +300\.00 +1200\.00 +3400\.00\n", out)
    with pytest.raises(CommandError, match="loan X9 is not boarded"):
        call_command("escrow_analysis", "X9", "--year-start", "2026-02-01")
