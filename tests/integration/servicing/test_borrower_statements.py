"""Borrower statements: the periodic statement (Reg Z 1026.41), form 1098 figures, the annual escrow statement.

L001: $100,000 at 6%, P&I 599.55, escrow 250.00, first due 2026-02-01. It pays February on 1 February,
March with $1,000 more (a curtailment), then nothing from April on.
"""
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.business_time import business_day
from remittance.domain.trust_calendar import Period
from servicing.borrower_statement_reads import (
    StatementUnavailable, escrow_statement, form_1098_of, forms_1098, paid_between, periodic_statement,
)
from servicing.domain.borrower_statements import csv_rows, periodic_statement_text, to_json
from servicing.services.delinquency import loans_age
from servicing.services.escrow import escrow_disburse_due, escrow_item_add
from tests.actors import TESTS
from tests.integration.remittance.months import INSTALLMENT_CENTS, pay
from tests.integration.servicing.tapes import board

pytestmark = pytest.mark.django_db
PI, ESCROW = 59_955, 25_000


@pytest.fixture
def l001():
    board({"loan_number": "L001"})
    pay("L001", Period(2026, 2))
    pay("L001", Period(2026, 3), cents=INSTALLMENT_CENTS + 100_000)
    escrow_item_add(loan_number="L001", kind="mortgage_insurance", payee="PMI Co", annual_amount_cents=60_000,
                    due_dates=["2026-03-15", "2026-09-15"], acting_user=TESTS)
    escrow_disburse_due(as_of=date(2026, 3, 15), acting_user=TESTS)
    for end in (date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)):
        loans_age(as_of=end, acting_user=TESTS)


def test_a_current_cycle_asks_for_the_next_installment_and_shows_where_the_money_went(l001):
    march = periodic_statement("L001", "2026-03")
    due = march.amount_due
    # Paid through March: April's installment is due, its interest on 99,900.45 - 9,955.49... after the curtailment.
    assert due.due_date == date(2026, 4, 1) and due.installments_past_due == 0 and due.past_due_cents == 0
    assert due.principal_cents + due.interest_cents == PI and due.escrow_cents == ESCROW
    assert due.total_cents == PI + ESCROW
    assert (due.late_charge_cents, due.late_charge_from) == (2_998, date(2026, 4, 17))  # 5% of P&I after 15 days
    paid = march.paid_this_cycle
    assert paid.total_cents == INSTALLMENT_CENTS + 100_000
    assert paid.escrow_cents == ESCROW and paid.principal_cents == PI - paid.interest_cents + 100_000
    assert march.paid_year_to_date.total_cents == 2 * INSTALLMENT_CENTS + 100_000
    assert [t.description for t in march.transactions] == [
        "Payment received (T-2026-03-L001)", "Paid from escrow: mortgage insurance to PMI Co"]
    assert march.delinquency is None and march.bankruptcy_notice is False
    assert march.standing.principal_balance_cents == 10_000_000 - paid_between(
        "L001", date(2026, 1, 1), date(2026, 3, 31)).principal_cents


def test_a_loan_45_days_late_gets_the_delinquency_notice_with_its_history(l001):
    june = periodic_statement("L001", "2026-06")
    due = june.amount_due
    # April, May and June unpaid on 30 June (with their late charges); July's installment due next.
    assert due.installments_past_due == 3 and due.due_date == date(2026, 7, 1)
    assert due.past_due_cents == 3 * INSTALLMENT_CENTS + june.standing.late_charges_due_cents
    assert june.standing.late_charges_due_cents == 3 * 2_998  # each month-end aging charged that month's installment
    q = june.delinquency
    assert q.days == 90 and q.since == date(2026, 4, 1)
    assert q.history[-3:] == (("2026-04", INSTALLMENT_CENTS), ("2026-05", 2 * INSTALLMENT_CENTS),
                              ("2026-06", 3 * INSTALLMENT_CENTS))
    assert any("foreclosure" in notice for notice in q.notices) and any("HUD" in notice for notice in q.notices)
    assert june.paid_this_cycle.total_cents == 0
    assert [t.description for t in june.transactions] == ["Late charge (installment due 2026-06-01)"]
    text = periodic_statement_text(june)
    assert "Delinquency notice: you are 90 days late" in text and "Amount due" in text


def test_a_later_payment_does_not_change_a_past_cycles_statement(l001):
    before = periodic_statement("L001", "2026-05")
    pay("L001", Period(2026, 7), cents=4 * INSTALLMENT_CENTS)
    assert periodic_statement("L001", "2026-05") == before


def test_form_1098_figures_for_the_year(l001):
    with business_day(date(2027, 1, 20)):
        form = form_1098_of("L001", 2026)
        assert form.interest_received_cents == paid_between("L001", date(2026, 1, 1), date(2026, 12, 31)).interest_cents
        assert form.interest_received_cents == 50_000 + 49_950  # February's and March's interest
        assert (form.principal_outstanding_cents, form.principal_as_of) == (10_000_000, date(2026, 1, 15))
        assert form.mortgage_insurance_cents == 30_000  # the March premium paid from escrow
        assert form.reportable is True  # $999.50 of interest: $600 or more
        assert [f.loan_number for f in forms_1098(2026)] == ["L001"]
        with pytest.raises(StatementUnavailable, match="2027 is not over yet"):
            form_1098_of("L001", 2027)


def test_the_annual_escrow_statement(l001):
    with business_day(date(2027, 1, 20)):
        s = escrow_statement("L001", 2026)
    assert (s.balance_start_cents, s.deposits_cents) == (0, 2 * ESCROW)
    assert s.disbursements == (("mortgage_insurance", 30_000),)
    assert s.balance_end_cents == 2 * ESCROW - 30_000 and s.advanced_cents == 0
    assert s.new_monthly_escrow_cents is None  # no analysis in the year


def test_bad_requests_are_named(l001):
    for loan, cycle, message in (("L999", "2026-03", "no loan 'L999'"), ("L001", "2026-3", "not a billing cycle"),
                                 ("L001", "２０２６-03", "not a billing cycle"), ("L001", "2025-12", "after the cycle"),
                                 ("L001", "2099-01", "not over yet")):
        with pytest.raises(StatementUnavailable, match=message):
            periodic_statement(loan, cycle)


def test_the_command_prints_text_csv_and_json(l001, capsys):
    call_command("borrower_statement", "L001", "--cycle", "2026-06")
    assert "Delinquency notice" in capsys.readouterr().out
    call_command("borrower_statement", "L001", "--cycle", "2026-03", "--format", "csv")
    rows = dict(line.split(",", 1) for line in capsys.readouterr().out.splitlines()[1:])
    assert rows["amount_due.total"] == "849.55" and rows["transactions.1.amount"] == "1849.55"
    call_command("borrower_statement", "L001", "--cycle", "2026-03", "--format", "json")
    assert json.loads(capsys.readouterr().out)["paid_this_cycle"]["total"] == "1849.55"
    with pytest.raises(CommandError, match="no loan"):
        call_command("borrower_statement", "L404", "--cycle", "2026-03")
    assert dict(csv_rows(periodic_statement("L001", "2026-03")))["loan_number"] == "L001"
    assert to_json(periodic_statement("L001", "2026-03"))["standing"]["bankruptcy_chapter"] is None


def test_the_statements_as_pdf_hold_their_figures(l001, tmp_path):
    from pypdf import PdfReader

    def text(path):
        return " ".join(page.extract_text() for page in PdfReader(str(path)).pages)

    june = tmp_path / "june.pdf"
    call_command("borrower_statement", "L001", "--cycle", "2026-06", "--format", "pdf", "--output", str(june))
    assert june.read_bytes().startswith(b"%PDF")
    body = text(june)
    statement = periodic_statement("L001", "2026-06")
    assert "Mortgage statement 2026-06 - loan L001" in body and "Delinquency notice" in body
    assert f"{statement.amount_due.total_cents / 100:,.2f}" in body
    with business_day(date(2027, 1, 20)):
        form, escrow = tmp_path / "1098.pdf", tmp_path / "escrow.pdf"
        call_command("borrower_statement", "L001", "--form-1098", "2026", "--format", "pdf", "--output", str(form))
        call_command("borrower_statement", "L001", "--escrow", "2026", "--format", "pdf", "--output", str(escrow))
    assert "999.50" in text(form) and "Reportable" in text(form)
    assert "mortgage insurance" in text(escrow) and "300.00" in text(escrow)
    with pytest.raises(CommandError, match="give --output"):
        call_command("borrower_statement", "L001", "--cycle", "2026-06", "--format", "pdf")


def test_positions_on_several_days_are_each_days_own_fold(l001):
    """The statement's arrears history reads the loan's events once; each day is still its own fold."""
    from ledger.models import LogPosition
    from servicing.selectors import loan_positions_on, positions_as_of

    head = LogPosition.objects.values_list("last_position", flat=True).get()
    days = [date(2026, 1, 10), date(2026, 2, 28), date(2026, 3, 31), date(2026, 5, 31), date(2026, 6, 30)]
    once = loan_positions_on("L001", days=days, through_position=head)
    assert date(2026, 1, 10) not in once  # before boarding
    for day in days[1:]:
        alone = positions_as_of(["L001"], day=day, through_position=head)["L001"]
        assert (once[day].principal_balance_cents, once[day].next_due_date, once[day].late_charges_due_cents,
                once[day].suspense_cents) == (alone.principal_balance_cents, alone.next_due_date,
                                              alone.late_charges_due_cents, alone.suspense_cents)
    assert once[date(2026, 6, 30)].next_due_date == date(2026, 4, 1)
