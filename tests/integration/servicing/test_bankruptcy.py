"""Bankruptcy cases on the loan stream, and the automatic stay: foreclosure held, no late charges, payments taken."""
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ledger.business_time import business_day
from ledger.domain.records import PostingLine
from ledger.models import Event
from ledger.projections import differences
from ledger.services import append
from ledger.verification import verify
from servicing.domain import accounts
from servicing.errors import ServicingError
from servicing.events import LateChargeAssessed
from servicing.models import LoanPosition, loan_stream
from servicing.services.bankruptcy import (
    bankruptcy_end, bankruptcy_file, bankruptcy_plan_confirm, bankruptcy_relief_grant, loan_cases,
)
from servicing.services.default import foreclosure_start, loan_charge_off, loan_liquidate, reo_acquire
from servicing.services.delinquency import loan_age
from servicing.services.payments import payment_post
from tests.actors import TESTS
from tests.integration.servicing.tapes import board

pytestmark = pytest.mark.django_db
L = "L001"
LATE = 2_998  # 5% of the seed loan's P&I of 599.55
INSTALLMENT = 84_955  # P&I 599.55 and escrow 250.00
COURT = "U.S. Bankruptcy Court, District of Springfield"


@pytest.fixture(autouse=True)
def _mid_2027():
    with business_day(date(2027, 6, 30)):
        yield


def position() -> LoanPosition:
    return LoanPosition.objects.get(loan_id=L)


def file(chapter=13, case="26-10001", on=date(2026, 3, 1)):
    return bankruptcy_file(loan_number=L, chapter=chapter, case_number=case, court=COURT, filed_on=on,
                           acting_user=TESTS)


def late_charges() -> list[str]:
    return sorted(e.payload["due_date"] for e in Event.objects.filter(event_type="LateChargeAssessed"))


def checks_out() -> bool:
    report = verify()
    assert report.problems == [] and differences() == []
    return True


def test_a_filing_sets_the_open_case_and_its_end_clears_it():
    board()
    file(chapter=13, on=date(2026, 3, 1))
    p = position()
    assert (p.bankruptcy_chapter, p.bankruptcy_filed_on) == (13, date(2026, 3, 1))
    bankruptcy_plan_confirm(loan_number=L, case_number="26-10001", confirmed_on=date(2026, 5, 4), acting_user=TESTS)
    assert position().bankruptcy_chapter == 13
    event = bankruptcy_end(loan_number=L, case_number="26-10001", outcome="discharged", ended_on=date(2026, 9, 1),
                           acting_user=TESTS)
    assert event.event_type == "BankruptcyDischarged" and event.postings == ()
    p = position()
    assert (p.bankruptcy_chapter, p.bankruptcy_filed_on) == (None, None)
    # A new case after the first one ended: chapter 7 this time, dismissed.
    file(chapter=7, case="26-20002", on=date(2026, 10, 1))
    assert position().bankruptcy_chapter == 7
    bankruptcy_end(loan_number=L, case_number="26-20002", outcome="dismissed", ended_on=date(2026, 11, 2),
                   acting_user=TESTS)
    cases = loan_cases(L).cases
    assert [(c.case_number, c.chapter, c.outcome, c.plan_confirmed_on) for c in cases] == [
        ("26-10001", 13, "discharged", date(2026, 5, 4)), ("26-20002", 7, "dismissed", None)]
    assert position().bankruptcy_chapter is None and checks_out()


@pytest.mark.parametrize(("act", "message"), [
    (lambda: file(on=date(2027, 7, 1)), r"^loan L001: bankruptcy filing 2027-07-01 is in the future"),
    (lambda: file(on=date(2026, 1, 10)),
     r"^loan L001: bankruptcy filing 2026-01-10: is before the loan was boarded on 2026-01-15$"),
    (lambda: file(chapter=11), r"^loan L001: chapter 11 is not one we service \(chapter 7 or 13\)$"),
    (lambda: file(case="26-10001", on=date(2026, 4, 1)),
     r"^loan L001: bankruptcy case 26-10001 \(chapter 13, filed 2026-03-01\) is still open; a second case cannot "
     r"be filed on 2026-04-01 until it is discharged or dismissed$"),
    (lambda: bankruptcy_end(loan_number=L, case_number="26-10001", outcome="dismissed", ended_on=date(2026, 2, 20),
                            acting_user=TESTS),
     r"^loan L001: cannot dismiss on 2026-02-20: bankruptcy case 26-10001 \(chapter 13, filed 2026-03-01\) was "
     r"filed on 2026-03-01, after it$"),
    (lambda: bankruptcy_end(loan_number=L, case_number="26-99999", outcome="discharged", ended_on=date(2026, 6, 1),
                            acting_user=TESTS),
     r"^loan L001: cannot discharge in case 26-99999: the open case is bankruptcy case 26-10001"),
    (lambda: bankruptcy_end(loan_number=L, case_number="26-10001", outcome="closed", ended_on=date(2026, 6, 1),
                            acting_user=TESTS),
     r"^loan L001: a case ends discharged or dismissed, not 'closed'$"),
])
def test_bad_bankruptcy_facts_are_refused_naming_the_loan_and_date_and_write_nothing(act, message):
    board()
    file()
    before = Event.objects.count()
    with pytest.raises(ServicingError, match=message):
        act()
    assert Event.objects.count() == before and position().bankruptcy_chapter == 13


def test_no_discharge_dismissal_plan_or_relief_without_an_open_case():
    board()
    for act in (
        lambda: bankruptcy_end(loan_number=L, case_number="26-1", outcome="discharged", ended_on=date(2026, 6, 1),
                               acting_user=TESTS),
        lambda: bankruptcy_plan_confirm(loan_number=L, case_number="26-1", confirmed_on=date(2026, 6, 1),
                                        acting_user=TESTS),
        lambda: bankruptcy_relief_grant(loan_number=L, case_number="26-1", granted_on=date(2026, 6, 1),
                                        acting_user=TESTS),
    ):
        with pytest.raises(ServicingError, match=r"^loan L001: cannot .* on 2026-06-01: the loan has no open "
                                                 r"bankruptcy case$"):
            act()
    file(chapter=7)
    with pytest.raises(ServicingError, match="is a chapter 7 case; only chapter 13 has a plan"):
        bankruptcy_plan_confirm(loan_number=L, case_number="26-10001", confirmed_on=date(2026, 6, 1),
                                acting_user=TESTS)
    assert Event.objects.count() == 2


def test_the_stay_holds_foreclosure_until_relief_is_granted():
    board()  # unpaid from 2026-02-01: more than 120 days delinquent on 2026-06-02
    file(chapter=7, on=date(2026, 5, 1))
    with pytest.raises(ServicingError, match=(
        r"^loan L001: cannot start foreclosure on 2026-06-02: the automatic stay of bankruptcy case 26-10001 "
        r"\(chapter 7, filed 2026-05-01\) is in effect until the case ends or relief from the stay is granted$")):
        foreclosure_start(loan_number=L, started_on=date(2026, 6, 2), acting_user=TESTS)
    assert position().status == "active"
    bankruptcy_relief_grant(loan_number=L, case_number="26-10001", granted_on=date(2026, 6, 10), acting_user=TESTS)
    with pytest.raises(ServicingError, match="cannot start foreclosure on 2026-06-09: the automatic stay"):
        foreclosure_start(loan_number=L, started_on=date(2026, 6, 9), acting_user=TESTS)
    foreclosure_start(loan_number=L, started_on=date(2026, 6, 10), acting_user=TESTS)
    p = position()
    assert (p.status, p.bankruptcy_chapter) == ("foreclosure", 7)  # the case stays open after relief
    reo_acquire(loan_number=L, acquired_on=date(2026, 9, 1), acting_user=TESTS)
    assert position().status == "reo" and checks_out()


def test_a_filing_during_foreclosure_holds_reo_and_the_sale_but_not_a_charge_off():
    board()
    foreclosure_start(loan_number=L, started_on=date(2026, 6, 2), acting_user=TESTS)
    file(chapter=13, on=date(2026, 7, 1))
    with pytest.raises(ServicingError, match="^loan L001: cannot acquire it as REO on 2026-08-01: the automatic stay"):
        reo_acquire(loan_number=L, acquired_on=date(2026, 8, 1), acting_user=TESTS)
    with pytest.raises(ServicingError, match="^loan L001: cannot liquidate it on 2026-08-01: the automatic stay"):
        loan_liquidate(loan_number=L, liquidated_on=date(2026, 8, 1), gross_proceeds_cents=8_000_000, costs_cents=0,
                       acting_user=TESTS)
    assert position().status == "foreclosure"
    # Before the filing, the sale was not stayed (a fact learned late is dated when it happened).
    loan_liquidate(loan_number=L, liquidated_on=date(2026, 6, 30), gross_proceeds_cents=8_000_000, costs_cents=0,
                   acting_user=TESTS)
    assert position().status == "liquidated" and checks_out()


def test_a_charge_off_is_not_a_collection_act():
    board()
    file(chapter=7, on=date(2026, 5, 1))
    loan_charge_off(loan_number=L, charged_off_on=date(2026, 8, 1), acting_user=TESTS)
    assert position().status == "charged_off" and checks_out()


def test_no_late_charge_while_the_stay_holds_but_the_bucket_moves_and_payments_are_taken():
    board()
    file(chapter=13, on=date(2026, 3, 1))
    # February's charge was owed 2026-02-17, before the filing; March to May's fell in the stay.
    loan_age(loan_number=L, as_of=date(2026, 6, 1), acting_user=TESTS)
    p = position()
    assert late_charges() == ["2026-02-01"] and p.late_charges_due_cents == LATE
    assert p.delinquency_bucket == "90+"  # delinquency is still reported
    result = payment_post(loan_number=L, amount_cents=INSTALLMENT, received_on=date(2026, 6, 5),
                          reference="CH13-1", acting_user=TESTS)
    assert not result.already_posted and position().next_due_date == date(2026, 3, 1)  # a chapter 13 payment
    bankruptcy_end(loan_number=L, case_number="26-10001", outcome="dismissed", ended_on=date(2026, 6, 10),
                   acting_user=TESTS)
    # After the dismissal: June's charge (owed 2026-06-17) is assessed; those owed in the stay never are.
    loan_age(loan_number=L, as_of=date(2026, 7, 1), acting_user=TESTS)
    assert late_charges() == ["2026-02-01", "2026-06-01"]
    assert position().late_charges_due_cents == 2 * LATE and checks_out()


def test_relief_from_the_stay_lets_late_charges_accrue_again():
    board()
    file(chapter=13, on=date(2026, 1, 20))
    bankruptcy_relief_grant(loan_number=L, case_number="26-10001", granted_on=date(2026, 4, 10), acting_user=TESTS)
    loan_age(loan_number=L, as_of=date(2026, 5, 20), acting_user=TESTS)
    # Owed 02-17 and 03-17 in the stay; 04-17 and 05-17 after relief.
    assert late_charges() == ["2026-04-01", "2026-05-01"] and checks_out()


def test_the_verifier_rederives_the_stay_and_names_a_late_charge_recorded_in_it():
    board()
    file(chapter=13, on=date(2026, 3, 1))
    version = position().stream_version
    charge = LateChargeAssessed(due_date=date(2026, 3, 1), amount_cents=LATE, rate_percent=5, grace_days=15,
                                payment_pi_cents=59_955)
    append(stream=loan_stream(L), expected_version=version, acting_user=TESTS, events=[charge.new_event(
        effective_date=date(2026, 3, 20), postings=(PostingLine(accounts.late_charges(L), LATE),
                                                    PostingLine(accounts.LATE_CHARGE_INCOME, -LATE)))])
    problems = verify().problems
    assert any("LateChargeAssessed): is a collection act on 2026-03-17, while the automatic stay of bankruptcy "
               "case 26-10001 (chapter 13, filed 2026-03-01) was in effect" in p for p in problems), problems


def test_the_verifier_refuses_a_position_the_facts_do_not_give():
    board()
    file(chapter=13, on=date(2026, 3, 1))
    LoanPosition.objects.filter(loan_id=L).update(bankruptcy_chapter=7)
    problems = verify().problems
    assert any("its LoanPosition row says bankruptcy_chapter 7, its events" in p and "re-derive 13" in p
               for p in problems), problems


def test_the_command_records_a_step_and_lists_the_cases():
    board()
    out = StringIO()
    call_command("bankruptcy", L, "filed", "--case", "26-10001", "--chapter", "13", "--court", COURT,
                 "--on", "2026-03-01", stdout=out)
    assert "loan L001: case 26-10001 filed on 2026-03-01" in out.getvalue()
    assert f"bankruptcy case 26-10001 (chapter 13, filed 2026-03-01), {COURT}: open" in out.getvalue()
    with pytest.raises(CommandError, match="is still open; a second case cannot be filed"):
        call_command("bankruptcy", L, "filed", "--case", "26-2", "--chapter", "7", "--court", COURT,
                     "--on", "2026-04-01", stdout=StringIO())
    with pytest.raises(CommandError, match="a bankruptcy filing needs its chapter"):
        call_command("bankruptcy", L, "filed", "--case", "26-3", "--court", COURT, stdout=StringIO())
    call_command("bankruptcy", L, "discharged", "--case", "26-10001", "--on", "2026-07-01", stdout=out)
    assert position().bankruptcy_chapter is None and Event.objects.count() == 3


def test_the_admin_records_a_step_on_the_loan_page(admin_client):
    board()
    url = reverse("admin:servicing_loan_bankruptcy", args=[L])
    assert url in admin_client.get(reverse("admin:servicing_loan_change", args=[L])).content.decode()
    refused = admin_client.post(url, {"step": "dismissed", "case_number": "26-1", "on": "2026-03-01"})
    assert "the loan has no open bankruptcy case" in refused.content.decode() and Event.objects.count() == 1
    done = admin_client.post(url, {"step": "filed", "case_number": "26-10001", "chapter": "13", "court": COURT,
                                   "on": "2026-03-01"}, follow=True)
    assert "bankruptcy case 26-10001 filed on 2026-03-01" in done.content.decode()
    assert "in bankruptcy, chapter 13 (MBA current)" in done.content.decode()  # the position's states
    assert position().bankruptcy_chapter == 13
    page = admin_client.get(url).content.decode()
    assert "26-10001" in page and COURT in page


def test_a_closed_loan_takes_no_filing():
    board()
    payment_post(loan_number=L, amount_cents=11_000_000, received_on=date(2026, 2, 1), reference="PAYOFF",
                 acting_user=TESTS)
    with pytest.raises(ServicingError, match="^loan L001 is paid off; cannot record a bankruptcy filing on a closed"):
        file()
    assert not Event.objects.filter(event_type="BankruptcyFiled").exists()
