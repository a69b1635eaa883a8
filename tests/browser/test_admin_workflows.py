"""The operations staff's main workflows in the admin, in a real headless Chromium on PostgreSQL."""
import pytest

from servicing.models import Loan
from tests.integration.servicing.tapes import seed_rows, tape

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_staff_log_in_and_board_a_tape_through_the_upload(page, tmp_path):
    from tests.browser.conftest import staff_user

    staff_user("olivia", superuser=True)
    page.log_in("olivia")
    tape_file = tmp_path / "tape.csv"
    tape_file.write_bytes(tape(*seed_rows(3)))
    page.go("/admin/servicing/loan/board/")
    page.upload("input[type=file]", tape_file)
    page.fill("#id_boarded_on", "2026-01-15")
    page.click("input[type=submit][value=Preview]")
    page.wait_for("#tape-ready")
    assert "3 loans ready to board" in page.text("#tape-ready")
    assert Loan.objects.count() == 0  # the preview boards nothing
    page.click("input[name=confirm]")
    page.wait_for(".messagelist")
    assert "Boarded 3 loan(s)" in page.text(".messagelist")
    assert sorted(Loan.objects.values_list("loan_number", flat=True)) == ["L001", "L002", "L003"]
