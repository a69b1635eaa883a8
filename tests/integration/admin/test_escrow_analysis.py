"""The annual escrow analysis from a loan's page: a preview of every figure, then the recorded analysis."""
import pytest
from django.urls import reverse

from ledger.models import Event
from servicing.models import LoanPosition
from servicing.services.escrow import escrow_item_add
from tests.actors import TESTS
from tests.integration.servicing.tapes import board

pytestmark = pytest.mark.django_db
ANALYSIS = reverse("admin:servicing_loan_escrow_analysis", args=["L001"])


@pytest.fixture(autouse=True)
def loan():
    """L001 with 2,400.00 of taxes (March and September) and 1,200.00 of hazard insurance (May) a year."""
    board()
    escrow_item_add(loan_number="L001", kind="property_tax", payee="Springfield County", annual_amount_cents=240_000,
                    due_dates=["2026-03-01", "2026-09-01"], acting_user=TESTS)
    escrow_item_add(loan_number="L001", kind="hazard_insurance", payee="Acme Mutual", annual_amount_cents=120_000,
                    due_dates=["2026-05-01"], acting_user=TESTS)


def analyses():
    return Event.objects.filter(event_type="EscrowAnalyzed")


def test_the_form_starts_at_the_next_due_date_and_previews_without_recording(admin_client):
    assert b'value="2026-02-01"' in admin_client.get(ANALYSIS).content
    page = admin_client.post(ANALYSIS, {"computation_year_start": "2026-02-01"}).content.decode()
    for text in ("Preview for the year from 2026-02-01: nothing recorded yet", "annual disbursements", "3,600.00",
                 "base monthly escrow", "300.00", "new monthly escrow", "Springfield County", "2026-03",
                 'name="confirm"'):
        assert text in page, text
    assert not analyses().exists()


def test_the_confirm_records_the_analysis_as_the_staff_member_and_sets_the_new_escrow(admin_client, admin_user):
    done = admin_client.post(ANALYSIS, {"computation_year_start": "2026-02-01", "confirm": "1"}, follow=True)
    event = analyses().get()
    new_monthly = event.payload["new_monthly_escrow_cents"]
    assert event.acting_user_id == admin_user.pk
    assert LoanPosition.objects.get(pk="L001").escrow_monthly_cents == new_monthly
    assert "Escrow analysis of loan L001 recorded for the year from 2026-02-01" in done.content.decode()
    assert done.redirect_chain[-1][0] == reverse("admin:servicing_loan_change", args=["L001"])
    # Once per loan and year: a second confirm records nothing and says so.
    again = admin_client.post(ANALYSIS, {"computation_year_start": "2026-02-01", "confirm": "1"}, follow=True)
    assert "was recorded before; nothing was recorded now" in again.content.decode() and analyses().count() == 1
    repeat_preview = admin_client.post(ANALYSIS, {"computation_year_start": "2026-02-01"}).content.decode()
    assert "An analysis for this year is already recorded" in repeat_preview


def test_a_refusal_is_shown_on_the_form_and_records_nothing(admin_client):
    page = admin_client.post(ANALYSIS, {"computation_year_start": "2026-02-15", "confirm": "1"}).content.decode()
    assert "the computation year must start on an installment due date (day 1), not 2026-02-15" in page
    assert not analyses().exists()
    unknown = admin_client.get(reverse("admin:servicing_loan_escrow_analysis", args=["X9"]))
    assert unknown.status_code == 404
