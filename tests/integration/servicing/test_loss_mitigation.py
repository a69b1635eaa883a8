"""Loss mitigation on a serviced loan: forbearance, deferral, repayment and trial plans, modification.

The seed loan: $100,000 at 6% over 360 months from 2026-02-01, P&I 599.55, escrow 250.00 (849.55 a month).
"""
from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from ledger.business_time import business_day
from ledger.models import Event, Posting
from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.services import append
from ledger.verification import verify
from servicing.domain import accounts
from servicing.errors import DateRefused
from servicing.events import LoanModified
from servicing.models import LoanPosition, loan_stream
from servicing.services.default import loan_charge_off
from servicing.services.delinquency import loans_age
from servicing.services.loss_mitigation import (
    LossMitigationRefused, ModificationTerms, forbearance_end, forbearance_start, loan_modify, modification_postings,
    payment_defer,
    repayment_plan_end, repayment_plan_start, trial_end, trial_start,
)
from servicing.services.payments import payment_post
from servicing.services.payoff import payoff_quote_get, payoff_quote_lines
from tests.actors import TESTS
from tests.integration.servicing.tapes import board

pytestmark = pytest.mark.django_db
L = "L001"
INSTALLMENT = 84_955


@pytest.fixture(autouse=True)
def _late_2027():
    with business_day(date(2027, 6, 30)):
        yield


def position() -> LoanPosition:
    return LoanPosition.objects.get(loan_id=L)


def pay(cents: int, on: date, tag: str = ""):
    return payment_post(loan_number=L, amount_cents=cents, received_on=on, reference=f"P-{on}{tag}",
                        acting_user=TESTS)


def books_hold() -> None:
    """Every event balanced, the ledger verified (positions re-derived), the read models rebuilt the same."""
    sums = defaultdict(int)
    for event_id, amount in Posting.objects.values_list("event_id", "amount_cents"):
        sums[event_id] += amount
    assert all(total == 0 for total in sums.values())
    result = verify()
    assert result.ok, result
    assert differences() == []
    p = position()
    assert account_balance(accounts.principal(L)) == p.principal_balance_cents
    assert account_balance(accounts.deferred_principal(L)) == p.deferred_principal_cents


def test_forbearance_ending_in_a_deferral_brings_the_loan_current():
    board()
    pay(INSTALLMENT, date(2026, 2, 1))
    forbearance_start(loan_number=L, started_on=date(2026, 3, 1), months=3, acting_user=TESTS)
    assert position().loss_mitigation == "forbearance"
    loans_age(as_of=date(2026, 5, 31), acting_user=TESTS)
    assert position().late_charges_due_cents == 0  # none while it lasts
    forbearance_end(loan_number=L, ended_on=date(2026, 5, 20), resolution="deferral", acting_user=TESTS)
    p = position()
    deferred = Event.objects.get(event_type="PaymentDeferred").payload
    # February paid 99.55 of principal (99,900.45 left): March 499.50, April 499.00 (on 99,800.40), May 498.50.
    assert deferred["due_dates"] == ["2026-03-01", "2026-04-01", "2026-05-01"]
    assert deferred["interest_cents"] == 49_950 + 49_900 + 49_850
    assert deferred["principal_cents"] == 3 * 59_955 - (49_950 + 49_900 + 49_850)
    assert p.next_due_date == date(2026, 6, 1) and p.loss_mitigation == ""
    assert p.deferred_principal_cents == 3 * 59_955
    assert p.principal_balance_cents == 100_000_00 - 9_955 - deferred["principal_cents"]
    loans_age(as_of=date(2026, 6, 30), acting_user=TESTS)
    # Only June, not covered, is charged late: the covered months never are.
    assert position().late_charges_due_cents == 2_998
    books_hold()


def test_the_deferred_balance_is_due_at_payoff_and_bears_no_interest():
    board()
    payment_defer(loan_number=L, deferred_on=date(2026, 3, 20), acting_user=TESTS)
    p = position()
    assert p.deferred_principal_cents == 2 * 59_955 and p.next_due_date == date(2026, 4, 1)
    quote, lines = payoff_quote_get(loan_number=L, as_of=date(2026, 4, 1)), None
    # Interest on the interest-bearing balance only: one 30-day month on it.
    assert quote.interest_cents == round(p.principal_balance_cents * Decimal("0.06") / 12)
    quote, lines = payoff_quote_lines(loan_number=L, as_of=date(2026, 4, 1))
    assert ("deferred principal (non-interest-bearing)", 2 * 59_955) in lines
    assert quote.total_cents == p.principal_balance_cents + quote.interest_cents + 2 * 59_955
    pay(quote.total_cents, date(2026, 4, 1), tag="-payoff")
    p = position()
    assert p.status == "paid_off" and p.deferred_principal_cents == 0
    assert account_balance(accounts.deferred_principal(L)) == 0
    books_hold()


def test_a_charge_off_loses_the_deferred_balance_too():
    board()
    payment_defer(loan_number=L, deferred_on=date(2026, 3, 20), acting_user=TESTS)
    deferred = position().deferred_principal_cents
    principal = position().principal_balance_cents
    loan_charge_off(loan_number=L, charged_off_on=date(2026, 11, 1), acting_user=TESTS)
    p = position()
    assert p.realized_loss_cents == principal + deferred and p.deferred_principal_cents == 0
    books_hold()


def test_a_repayment_plan_kept_and_one_broken():
    board()
    pay(INSTALLMENT, date(2026, 2, 1))
    # March and April missed: 1,699.10 of arrears spread over 2 months on top of the regular installment.
    repayment_plan_start(loan_number=L, started_on=date(2026, 4, 10), months=2, acting_user=TESTS)
    plan = Event.objects.get(event_type="RepaymentPlanStarted").payload
    assert plan["due_dates"] == ["2026-05-01", "2026-06-01"] and plan["amounts_cents"] == [2 * INSTALLMENT] * 2
    with pytest.raises(LossMitigationRefused, match="still running"):
        repayment_plan_end(loan_number=L, ended_on=date(2026, 5, 15), acting_user=TESTS)
    pay(2 * INSTALLMENT, date(2026, 5, 1))
    pay(2 * INSTALLMENT, date(2026, 6, 1))
    repayment_plan_end(loan_number=L, ended_on=date(2026, 6, 5), acting_user=TESTS)
    ended = Event.objects.get(event_type="RepaymentPlanEnded").payload
    assert ended["kept"] is True and position().loss_mitigation == ""
    assert position().next_due_date == date(2026, 7, 1)  # current
    repayment_plan_start(loan_number=L, started_on=date(2026, 8, 10), months=3, acting_user=TESTS)
    pay(INSTALLMENT, date(2026, 9, 1), tag="-short")  # short of the plan's installment
    repayment_plan_end(loan_number=L, ended_on=date(2026, 10, 1), acting_user=TESTS)
    broken = Event.objects.filter(event_type="RepaymentPlanEnded").order_by("-position").first().payload
    assert broken["kept"] is False and position().loss_mitigation == ""
    assert position().next_due_date == date(2026, 8, 1)  # delinquent as before: the payment paid July
    books_hold()


def test_a_kept_trial_becomes_a_modification_with_arrears_capitalized():
    board()
    pay(INSTALLMENT, date(2026, 2, 1))
    trial_start(loan_number=L, started_on=date(2026, 5, 10), months=3, payment_cents=70_000, acting_user=TESTS)
    for month in (6, 7, 8):
        pay(70_000, date(2026, month, 1))
    # 2,100.00 received: two installments applied (Mar, Apr), 400.90 waits in suspense; no cent lost.
    p = position()
    assert p.next_due_date == date(2026, 5, 1) and p.suspense_cents == 3 * 70_000 - 2 * INSTALLMENT
    with pytest.raises(LossMitigationRefused, match="trial plan is still running"):
        loan_modify(loan_number=L, terms=ModificationTerms(date(2026, 8, 20), Decimal("4"), 480, date(2026, 9, 1)),
                    acting_user=TESTS)
    trial_end(loan_number=L, ended_on=date(2026, 8, 20), acting_user=TESTS)
    assert position().loss_mitigation == "trial"
    before = position()
    loan_modify(loan_number=L, terms=ModificationTerms(date(2026, 8, 25), Decimal("4"), 480, date(2026, 9, 1),
                                                       principal_forbearance_cents=500_000),
                acting_user=TESTS)
    m = Event.objects.get(event_type="LoanModified").payload
    missed = ["2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01"]
    assert m["missed_due_dates"] == missed
    assert m["missed_interest_cents"] == 4 * round(before.principal_balance_cents * Decimal("0.06") / 12)
    p = position()
    assert p.principal_balance_cents == before.principal_balance_cents + m["missed_interest_cents"] - 500_000
    assert p.deferred_principal_cents == 500_000 and p.loss_mitigation == "modified"
    assert p.note_rate == Decimal("4") and p.next_due_date == date(2026, 9, 1)
    assert p.suspense_cents == before.suspense_cents  # joins the first modified installment
    assert m["maturity_date"] == "2066-08-01"
    books_hold()


def test_a_failed_trial_ends_the_plan():
    board()
    trial_start(loan_number=L, started_on=date(2026, 2, 10), months=3, payment_cents=70_000, acting_user=TESTS)
    pay(70_000, date(2026, 3, 1))
    trial_end(loan_number=L, ended_on=date(2026, 4, 30), acting_user=TESTS)
    assert Event.objects.get(event_type="TrialPlanEnded").payload["kept"] is False
    assert position().loss_mitigation == ""
    with pytest.raises(LossMitigationRefused, match="only a loan whose trial plan was kept is modified"):
        loan_modify(loan_number=L, terms=ModificationTerms(date(2026, 5, 1), Decimal("4"), 360, date(2026, 6, 1)),
                    acting_user=TESTS)
    books_hold()


def test_forgiveness_by_a_person_alone_is_refused(django_user_model):
    board()
    trial_start(loan_number=L, started_on=date(2026, 2, 10), months=1, payment_cents=INSTALLMENT, acting_user=TESTS)
    pay(INSTALLMENT, date(2026, 3, 1))
    trial_end(loan_number=L, ended_on=date(2026, 3, 31), acting_user=TESTS)
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    terms = ModificationTerms(date(2026, 4, 1), Decimal("5"), 360, date(2026, 5, 1), forgiven_cents=100_000)
    with pytest.raises(LossMitigationRefused, match="without an approval"):
        loan_modify(loan_number=L, terms=terms, acting_user=clerk)
    assert not Event.objects.filter(event_type="LoanModified").exists()


def test_refusals_name_the_loan_and_write_nothing():
    board()
    with pytest.raises(DateRefused, match="L001"):
        forbearance_start(loan_number=L, started_on=date(2027, 7, 1), months=3, acting_user=TESTS)
    with pytest.raises(DateRefused, match="before the loan was boarded"):
        forbearance_start(loan_number=L, started_on=date(2026, 1, 1), months=3, acting_user=TESTS)
    with pytest.raises(LossMitigationRefused, match="^loan L001: a plan runs 1 to 12 months, not 13$"):
        forbearance_start(loan_number=L, started_on=date(2026, 3, 1), months=13, acting_user=TESTS)
    with pytest.raises(LossMitigationRefused, match="is in no plan; cannot end a forbearance on it"):
        forbearance_end(loan_number=L, ended_on=date(2026, 3, 1), resolution="none", acting_user=TESTS)
    with pytest.raises(LossMitigationRefused, match="no installment is past due"):
        payment_defer(loan_number=L, deferred_on=date(2026, 1, 20), acting_user=TESTS)
    forbearance_start(loan_number=L, started_on=date(2026, 3, 1), months=2, acting_user=TESTS)
    with pytest.raises(LossMitigationRefused, match="before its start"):
        forbearance_end(loan_number=L, ended_on=date(2026, 2, 1), resolution="none", acting_user=TESTS)
    with pytest.raises(LossMitigationRefused, match="is forbearance; cannot start a trial plan on"):
        trial_start(loan_number=L, started_on=date(2026, 3, 2), months=3, payment_cents=1, acting_user=TESTS)
    assert Event.objects.count() == 2


def test_commands(capsys):
    board()
    call_command("loss_mitigation", "forbearance-start", "--loan", L, "--on", "2026-03-01", "--months", "2")
    call_command("loss_mitigation", "forbearance-end", "--loan", L, "--on", "2026-04-15", "--resolution", "deferral")
    out = capsys.readouterr().out
    assert "ForbearanceStarted" in out and "PaymentDeferred" in out
    assert position().deferred_principal_cents == 3 * 59_955  # February (never paid), March, April


def test_the_loan_page_records_a_step_and_shows_a_refusal(admin_client):
    board()
    url = f"/admin/servicing/loan/{L}/loss-mitigation/"
    assert admin_client.get(url).status_code == 200
    refused = admin_client.post(url, {"step": "forbearance-end", "on": "2026-03-01", "resolution": "none"})
    assert "is in no plan; cannot end a forbearance on it" in refused.content.decode()
    done = admin_client.post(url, {"step": "forbearance-start", "on": "2026-03-01", "months": "3", "amount": "0"})
    assert done.status_code == 302 and position().loss_mitigation == "forbearance"
    page = admin_client.get(f"/admin/servicing/loan/{L}/change/").content.decode()
    assert "Loss mitigation" in page and "forbearance" in page


def test_the_verifier_re_derives_a_modification_rather_than_trusting_it():
    """A LoanModified whose figures are not what its position gives is reported, though its fold and
    postings agree with each other."""
    board()
    trial_start(loan_number=L, started_on=date(2026, 2, 10), months=1, payment_cents=INSTALLMENT, acting_user=TESTS)
    pay(INSTALLMENT, date(2026, 3, 1))
    trial_end(loan_number=L, ended_on=date(2026, 3, 31), acting_user=TESTS)
    loan_modify(loan_number=L, terms=ModificationTerms(date(2026, 4, 1), Decimal("5"), 360, date(2026, 5, 1)),
                acting_user=TESTS)
    assert verify().ok
    honest = LoanModified.from_payload(Event.objects.get(event_type="LoanModified").payload)
    # A second, padded modification: 100.00 more principal than the position gives, booked consistently.
    trial_start(loan_number=L, started_on=date(2026, 4, 10), months=1, payment_cents=1, acting_user=TESTS)
    pay(300_000, date(2026, 5, 1), tag="-2")
    trial_end(loan_number=L, ended_on=date(2026, 5, 2), acting_user=TESTS)
    p = position()
    padded = replace(honest, modified_on=date(2026, 5, 3), missed_due_dates=(), principal_before_cents=
                     p.principal_balance_cents, missed_interest_cents=0, principal_after_cents=
                     p.principal_balance_cents + 10_000, first_payment_date=p.next_due_date)
    postings = modification_postings(L, replace(padded, missed_interest_cents=10_000))
    append(stream=loan_stream(L), expected_version=p.stream_version, acting_user=TESTS,
           events=[padded.new_event(effective_date=date(2026, 5, 3), postings=postings)])
    problems = " ".join(verify().problems)
    assert "the modification says principal_after_cents" in problems
