"""Servicing in the admin: boarding through an upload with a preview, loan pages."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ledger.models import Event
from servicing.models import Loan
from tests.integration.servicing.tapes import board, seed_rows, tape

pytestmark = pytest.mark.django_db
BOARD = "admin:servicing_loan_board"


def _upload(client, raw):
    return client.post(reverse(BOARD), {"tape": SimpleUploadedFile("tape.csv", raw), "boarded_on": "2026-01-15"})


def test_preview_lists_bad_rows_and_boards_nothing(admin_client):
    page = _upload(admin_client, tape({"loan_number": "A1"}, {"loan_number": "A2", "note_rate": "x"})).content.decode()
    assert "1 bad row: nothing will be boarded" in page and "line 3: note_rate" in page
    assert 'name="confirm"' not in page
    assert not Loan.objects.exists()


def test_preview_then_confirm_boards_the_tape_as_the_staff_member(admin_client, admin_user):
    page = _upload(admin_client, tape(*seed_rows(3))).content.decode()
    assert "3 loans ready to board" in page and not Loan.objects.exists()
    done = admin_client.post(reverse(BOARD), {"confirm": "1"}, follow=True)
    assert "Boarded 3 loan(s)" in done.content.decode()
    assert Loan.objects.count() == 3
    assert set(Event.objects.values_list("acting_user", flat=True)) == {admin_user.pk}


def test_staff_without_permission_cannot_board(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    assert _upload(client, tape(*seed_rows(1))).status_code == 403


def test_loan_page_shows_terms_position_schedule_and_history(admin_client):
    board(*seed_rows(1))
    page = admin_client.get(reverse("admin:servicing_loan_change", args=["L001"])).content.decode()
    for text in ("599.55", "100,000.00", "LoanBoarded", "Unpaid principal", "Next due"):
        assert text in page
    listing = admin_client.get(reverse("admin:servicing_loan_changelist")).content.decode()
    assert "L001" in listing and "100,000.00" in listing and "Board loans from a tape" in listing
    assert 'name="_save"' not in page
