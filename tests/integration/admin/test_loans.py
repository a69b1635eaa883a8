"""Loans in the admin: the list's figures, filters and search, one query per page, the loan's page."""
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger import business_time
from servicing.services.payments import payment_post
from servicing.services.escrow import escrow_item_add
from tests.integration.servicing.tapes import board, seed_rows, tape

pytestmark = pytest.mark.django_db
LIST = reverse("admin:servicing_loan_changelist")


def page(client, url, **query) -> str:
    response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def loans():
    """L001 to L003 boarded 2026-01-15; L001 paid February's installment, L003 on autopay."""
    board(*seed_rows(2), {"loan_number": "L003", "borrower_name": "Cy Autopay", "autopay": "true"})
    payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 1), reference="BANK-1")


def test_the_list_shows_balance_status_days_delinquent_next_due_escrow_and_suspense(admin_client, loans):
    listing = page(admin_client, LIST)
    for heading in ("unpaid balance", "status", "days delinquent", "next due", "escrow", "suspense"):
        assert heading in listing.lower()
    days_l002 = (business_time.today() - date(2026, 2, 1)).days
    days_l001 = (business_time.today() - date(2026, 3, 1)).days
    assert "99,900.45" in listing and "100,000.00" in listing  # L001 after its first installment, L002 unpaid
    assert f"<td class=\"field-days_late\">{days_l002}</td>" in listing
    assert f"<td class=\"field-days_late\">{days_l001}</td>" in listing
    assert "March 1, 2026" in listing and "250.00" in listing and "Active" in listing


def test_filters_and_search(admin_client, loans):
    count = lambda **q: admin_client.get(LIST, q).context["cl"].result_count  # noqa: E731
    assert count(autopay__exact="1") == 1
    assert count(position__status__exact="active") == 3
    assert count(position__delinquency_bucket__exact="current") == 3  # never aged in this test
    assert count(q="L00") == 3 and count(q="L003") == 1
    assert count(q="Cy Autopay") == 1


def test_a_page_of_loans_costs_the_same_queries_for_3_or_12_loans(admin_client, loans):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(LIST).status_code == 200
        return len(captured)

    few = queries()
    board(*({"loan_number": f"L{i:03d}"} for i in range(4, 13)))
    assert queries() == few


def test_sorting_by_days_delinquent_puts_the_longest_late_first(admin_client, loans):
    columns = admin_client.get(LIST).context["cl"].list_display
    descending = f"-{columns.index('days_late')}"
    loans_in_order = [loan.pk for loan in admin_client.get(LIST, {"o": descending}).context["cl"].result_list]
    assert loans_in_order[-1] == "L001"


def test_the_loan_page_shows_terms_escrow_items_position_schedule_and_history_with_postings(admin_client, loans):
    escrow_item_add(loan_number="L001", kind="property_tax", payee="Springfield County", annual_amount_cents=240_000,
                    due_dates=["2026-09-01"], added_on=date(2026, 1, 20))
    loan = page(admin_client, reverse("admin:servicing_loan_change", args=["L001"]))
    for text in ("Terms at boarding", "100,000.00", "599.55", "Springfield County", "2,400.00",  # terms
                 "Unpaid principal", "99,900.45", "Days delinquent", "Payoff amount on",  # position
                 "360", "2056-01-01", "next due",  # the schedule's last installment and where the loan stands
                 "LoanBoarded", "PaymentPosted", "EscrowItemAdded", "loan:L001:principal", "-99.55",  # history
                 "Open in the event log", "Escrow analysis"):
        assert text in loan, text
    assert 'name="_save"' not in loan and "deletelink" not in loan


def test_a_view_only_clerk_sees_the_figures_but_no_action(viewer_client, loans):
    listing = page(viewer_client, LIST)
    assert "99,900.45" in listing
    assert "Board loans from a tape" not in listing and "Import a payment file" not in listing
    loan = page(viewer_client, reverse("admin:servicing_loan_change", args=["L001"]))
    assert "99,900.45" in loan and "Escrow analysis" not in loan
    for name, args in (("board", []), ("import_payments", []), ("escrow_analysis", ["L001"])):
        assert viewer_client.get(reverse(f"admin:servicing_loan_{name}", args=args)).status_code == 403


def test_the_tape_preview_shows_balances_in_dollars(admin_client):
    preview = admin_client.post(reverse("admin:servicing_loan_board"), {
        "tape": SimpleUploadedFile("tape.csv", tape({"loan_number": "A1", "original_balance": "1250000.00"})),
        "boarded_on": "2026-01-15"}).content.decode()
    assert "1 loan ready to board on" in preview and "1,250,000.00" in preview
