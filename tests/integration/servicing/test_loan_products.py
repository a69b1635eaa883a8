"""Loan products end to end: an ARM, an interest-only and a balloon loan boarded from a tape with the product
columns, index values loaded, their changes of terms recorded once as of a day, a delinquent ARM paying the
installments before its change at the old terms and the next at the new, a return putting the old terms back,
the balloon paid at maturity, and verify_ledger re-deriving all of it."""
import dataclasses
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ledger.business_time import business_day
from ledger.models import Event
from ledger.services import append
from ledger.verification import verify
from servicing.domain.arm import ArmTerms
from servicing.domain.loan_terms import LoanTerms, product_schedule
from servicing.errors import DateRefused, FileRejected
from servicing.events import LoanBoarded, LoanTermsChanged, loan_fact
from servicing.models import IndexValue, LoanPosition, loan_stream
from servicing.services.boarding import tape_board
from servicing.services.payments import payment_post
from servicing.services.payoff import payoff_quote_get
from servicing.services.terms_changes import index_values_load, terms_changes_record
from servicing.domain.loan_tape import PRODUCT_COLUMNS, TAPE_COLUMNS
from tests.actors import TESTS, payment_return
from tests.integration.servicing.tapes import tape

pytestmark = pytest.mark.django_db
ARM = {"loan_number": "ARM1", "note_rate": "6", "product": "arm", "arm_index": "SOFR30A", "arm_margin": "2.75",
       "arm_rounding": "nearest_eighth", "arm_lookback_days": "45", "arm_first_change_months": "12",
       "arm_change_every_months": "12", "arm_first_cap": "2", "arm_periodic_cap": "1", "arm_lifetime_cap": "5"}
IO = {"loan_number": "IO1", "note_rate": "6", "product": "fixed", "interest_only_months": "12"}
BALLOON = {"loan_number": "BAL1", "note_rate": "7", "term_months": "120", "amortization_months": "360",
           "first_payment_date": "2017-01-01", "next_due_date": "2026-12-01", "current_balance": "90000.00"}
COLUMNS = (*TAPE_COLUMNS, *PRODUCT_COLUMNS)
ARM_TERMS = LoanTerms(product="arm", term_months=360, amortization_months=360, arm=ArmTerms(
    index="SOFR30A", margin=Decimal("2.75"), rounding="nearest_eighth", lookback_days=45, first_change_months=12,
    change_every_months=12, first_cap=Decimal("2"), periodic_cap=Decimal("1"), lifetime_cap=Decimal("5"),
    floor=Decimal("2.75")))


@pytest.fixture(autouse=True)
def boarded():
    tape_board(raw=tape(ARM, IO, BALLOON, columns=COLUMNS), boarded_on=date(2026, 1, 15), acting_user=TESTS)


def _index_file(*rows: str) -> bytes:
    return ("index,date,percent\n" + "\n".join(rows) + "\n").encode()


def _arm_changed(*, index: str, rate: str) -> list:
    """ARM1's first change recorded on 2026-12-01 from SOFR30A at `index`; its schedule at `rate` from it."""
    with business_day(date(2026, 12, 1)):
        index_values_load(raw=_index_file(f"SOFR30A,2026-11-10,{index}"), acting_user=TESTS)
        terms_changes_record(as_of=date(2026, 12, 1), acting_user=TESTS)
    return list(product_schedule(terms=ARM_TERMS, principal_cents=10_000_000, note_rate=Decimal("6"),
                                 first_payment_date=date(2026, 2, 1), rates={13: Decimal(rate)}))


def _terms_changes(loan: str) -> list[LoanTermsChanged]:
    return [loan_fact(e) for e in Event.objects.filter(stream=loan_stream(loan), event_type="LoanTermsChanged")
            .order_by("position")]


def test_the_tape_boards_each_product_with_its_terms_snapshot():
    boarded = {e.stream: LoanBoarded.from_payload(e.payload) for e in Event.objects.filter(event_type="LoanBoarded")}
    assert boarded["loan:ARM1"].terms == ARM_TERMS
    assert boarded["loan:IO1"].terms.interest_only_months == 12 and boarded["loan:IO1"].payment_pi_cents == 50_000
    assert LoanPosition.objects.get(loan_id="BAL1").balloon_due_date == date(2026, 12, 1)
    assert LoanPosition.objects.get(loan_id="ARM1").terms_changes == []
    assert verify().ok


def test_index_values_load_once_refuse_a_conflicting_value_and_future_dates():
    with business_day(date(2026, 12, 1)):
        first = index_values_load(raw=_index_file("SOFR30A,2026-11-16,4.51234", "CMT1Y,2026-11-16,4.1"),
                                  acting_user=TESTS)
        again = index_values_load(raw=_index_file("SOFR30A,2026-11-16,4.51234"), acting_user=TESTS)
        with pytest.raises(FileRejected, match=r"already recorded as 4.51234%; 4.6% is refused"):
            index_values_load(raw=_index_file("SOFR30A,2026-11-17,4.5", "SOFR30A,2026-11-16,4.6"), acting_user=TESTS)
        with pytest.raises(FileRejected, match="after today"):
            index_values_load(raw=_index_file("SOFR30A,2026-12-02,4.5"), acting_user=TESTS)
        with pytest.raises(FileRejected, match="twice"):
            index_values_load(raw=_index_file("CMT1Y,2026-11-20,4.1", "CMT1Y,2026-11-20,4.1"), acting_user=TESTS)
    assert (first.recorded, again.recorded, again.already_recorded) == (2, 0, 1)
    assert list(IndexValue.objects.values_list("index", "percent").order_by("index")) == [
        ("CMT1Y", Decimal("4.1")), ("SOFR30A", Decimal("4.51234"))]  # nothing of the refused files
    assert verify().ok


def test_changes_of_terms_are_recorded_once_when_due_with_their_notice_windows():
    with business_day(date(2026, 12, 1)):
        with pytest.raises(DateRefused):
            terms_changes_record(as_of=date(2026, 12, 2), acting_user=TESTS)
        waiting = terms_changes_record(as_of=date(2026, 12, 1), acting_user=TESTS)
        index_values_load(raw=_index_file("SOFR30A,2026-11-10,5.4", "SOFR30A,2026-11-18,9"), acting_user=TESTS)
        done = terms_changes_record(as_of=date(2026, 12, 1), acting_user=TESTS)
        again = terms_changes_record(as_of=date(2026, 12, 1), acting_user=TESTS)
    # The IO end is recordable from 120 days before its first installment; the ARM waits for its index value.
    assert [f.loan_number for f in waiting.recorded] == ["IO1"] and waiting.waiting[0].startswith("loan ARM1: no SOFR30A")
    assert [f.loan_number for f in done.recorded] == ["ARM1"] and again.recorded == [] and again.waiting == []
    (reset,) = _terms_changes("ARM1")
    # The value in effect 45 days before 2027-01-01 (2026-11-17) is 2026-11-10's: 5.4 + 2.75 = 8.15 -> 8.125,
    # capped at the initial 6% + the first cap of 2.
    assert (reset.index_date, reset.index_value, reset.fully_indexed_rate) == (date(2026, 11, 10), Decimal("5.4"),
                                                                               Decimal("8.15"))
    assert (reset.note_rate, reset.limited_by, reset.first_due_date) == (Decimal("8"), "first_cap", date(2027, 2, 1))
    assert (reset.notice_from, reset.notice_by) == (date(2026, 10, 4), date(2026, 12, 3))
    assert (reset.initial_notice_from, reset.initial_notice_by) == (date(2026, 6, 6), date(2026, 7, 6))
    rows = product_schedule(terms=ARM_TERMS, principal_cents=10_000_000, note_rate=Decimal("6"),
                            first_payment_date=date(2026, 2, 1), rates={13: Decimal("8")})
    assert reset.scheduled_balance_cents == rows[11].balance_cents_after
    assert reset.payment_pi_cents == rows[12].payment_cents
    (io_end,) = _terms_changes("IO1")
    assert (io_end.reason, io_end.note_rate, io_end.scheduled_balance_cents) == ("io_period_ended", Decimal("6"),
                                                                                 10_000_000)
    assert io_end.payment_pi_cents == round(-npf.pmt(0.005, 348, 10_000_000)) == 60_700  # over the 348 months left
    # Recorded ahead: the position keeps the terms of its next due date until it reaches the change.
    position = LoanPosition.objects.get(loan_id="ARM1")
    assert (position.note_rate, position.payment_pi_cents) == (Decimal("6"), 59_955)
    assert verify().ok


def test_a_delinquent_arm_pays_the_old_installments_at_the_old_terms_and_the_new_at_the_new():
    rows = _arm_changed(index="5.4", rate="8")
    # Nothing paid since boarding: thirteen installments due by 2027-02-01, twelve at 6%, one at 8%.
    amount = sum(r.payment_cents for r in rows[:13]) + 13 * 25_000
    with business_day(date(2027, 2, 10)):
        result = payment_post(loan_number="ARM1", amount_cents=amount, received_on=date(2027, 2, 10), reference="C1",
                              acting_user=TESTS)
    app = result.application
    assert app.installments_paid == 13 and app.to_suspense_cents == 0 and app.curtailment_cents == 0
    assert app.interest_cents == sum(r.interest_cents for r in rows[:13])
    assert app.principal_cents == sum(r.principal_cents for r in rows[:13])
    position = LoanPosition.objects.get(loan_id="ARM1")
    assert position.next_due_date == date(2027, 3, 1) and position.principal_balance_cents == rows[12].balance_cents_after
    assert (position.note_rate, position.payment_pi_cents) == (Decimal("8"), rows[12].payment_cents)
    with business_day(date(2027, 2, 10)):
        quote = payoff_quote_get(loan_number="ARM1", as_of=date(2027, 2, 10))
    assert quote.interest_cents == round(position.principal_balance_cents * Decimal(8) * 9 / 36000)
    assert verify().ok


def test_a_return_puts_the_old_terms_back_with_the_due_date():
    rows = _arm_changed(index="3", rate="5.75")
    with business_day(date(2027, 2, 10)):
        payment_post(loan_number="ARM1", amount_cents=sum(r.payment_cents for r in rows[:12]) + 12 * 25_000,
                     received_on=date(2027, 1, 20), reference="C1", acting_user=TESTS)
        assert LoanPosition.objects.get(loan_id="ARM1").note_rate == Decimal("5.75")
        payment_return(loan_number="ARM1", reference="C1", returned_on=date(2027, 2, 10), reason="NSF")
    position = LoanPosition.objects.get(loan_id="ARM1")
    assert position.next_due_date == date(2026, 2, 1)
    assert (position.note_rate, position.payment_pi_cents) == (Decimal("6"), 59_955)
    assert verify().ok


def test_the_balloon_is_paid_off_at_maturity_and_the_commands_run(tmp_path, capsys):
    with business_day(date(2026, 12, 1)):
        quote = payoff_quote_get(loan_number="BAL1", as_of=date(2026, 12, 1))
        assert quote.principal_cents == 9_000_000 and quote.interest_cents == 52_500  # a month at 7%
        result = payment_post(loan_number="BAL1", amount_cents=9_052_500 + 25_000, received_on=date(2026, 12, 1),
                              reference="M1", acting_user=TESTS)
        assert result.paid_off
        with pytest.raises(CommandError, match="in the future"):
            call_command("record_terms_changes", "--as-of", "2026-12-02")
        values = tmp_path / "sofr.csv"
        values.write_bytes(_index_file("SOFR30A,2026-11-10,5.4"))
        call_command("load_index_values", str(values))
        call_command("record_terms_changes", "--as-of", "2026-12-01")
        bad = tmp_path / "bad.csv"
        bad.write_bytes(_index_file("SOFR30A,2026-11-10,5.5"))
        with pytest.raises(CommandError, match="already recorded as 5.4"):
            call_command("load_index_values", str(bad))
    out = capsys.readouterr().out
    assert "recorded 1 index value(s)" in out and "loan ARM1: arm_reset from 2027-02-01: rate 6.0000% -> 8" in out
    assert LoanPosition.objects.get(loan_id="BAL1").status == "paid_off"
    assert verify().ok


def test_a_forged_change_of_terms_above_its_cap_is_named_by_verify_ledger():
    _arm_changed(index="5.4", rate="8")
    (genuine,) = _terms_changes("ARM1")
    forged = dataclasses.replace(genuine, note_rate=Decimal("9"), limited_by="")
    event = append(stream=loan_stream("ARM1"), expected_version=None, acting_user=TESTS,
                   events=[forged.new_event(effective_date=date(2026, 12, 1))])[0]
    problems = [p for p in verify().problems if p.startswith(f"event #{event.position} ")]
    assert problems and "it says note_rate 9; its facts re-derive 8" in problems[0]


def test_the_loan_page_shows_the_product_its_changes_and_their_notice_windows(admin_client):
    _arm_changed(index="5.4", rate="8")
    with business_day(date(2026, 12, 1)):
        page = admin_client.get(reverse("admin:servicing_loan_change", args=["ARM1"])).content.decode()
    assert "SOFR30A" in page and "first after 12 months, then every 12" in page
    assert "6.0000% → 8.0000%" in page and "first_cap" in page
    assert "2026-10-04 to 2026-12-03" in page and "2026-06-06 to 2026-07-06" in page
    assert "8.0000%" in page  # the schedule's rate from the change's first installment on
