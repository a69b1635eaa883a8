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


def test_a_payment_file_with_one_bad_row_is_reported_and_nothing_is_posted(page, tmp_path):
    from tests.browser.conftest import staff_user
    from tests.integration.servicing.tapes import board

    board(*seed_rows(3))
    staff_user("olivia", superuser=True)
    page.log_in("olivia")
    bad_file = tmp_path / "payments.csv"
    bad_file.write_text("loan_number,received_on,amount,reference\n"
                        "L001,2026-02-01,849.55,BANK-1\n"
                        "L404,2026-02-01,849.55,BANK-2\n"
                        "L003,2026-02-01,849.55,BANK-3\n")
    page.go("/admin/servicing/loan/import-payments/")
    page.upload("input[type=file]", bad_file)
    page.click("input[type=submit][value=Preview]")
    page.wait_for("#payment-problems")
    assert "1 bad row: nothing will be posted" in page.text("#payment-problems")
    assert "line 3" in page.text("#bad-rows") and "L404" in page.text("#bad-rows")
    assert not page.find_all("input[name=confirm]")  # no way to post a file with a bad row
    assert payments_posted() == 0

    good_file = tmp_path / "payments-corrected.csv"
    good_file.write_text(bad_file.read_text().replace("L404", "L002"))
    page.upload("input[type=file]", good_file)
    page.click("input[type=submit][value=Preview]")
    page.wait_for("#payments-ready")
    page.click("input[name=confirm]")
    page.wait_for(".messagelist")
    assert payments_posted() == 3


def payments_posted() -> int:
    from ledger.models import Event

    return Event.objects.filter(event_type="PaymentPosted").count()


def test_the_loan_list_fits_a_1400_pixel_screen(page):
    """Every column of the loan list, and the filters beside it, without scrolling sideways (the window is
    1,400 px wide); a long borrower name or address wraps instead of widening the table."""
    from tests.browser.conftest import staff_user
    from tests.integration.servicing.tapes import board

    board(*({"loan_number": f"L{i:03d}", "borrower_name": "Bartholomew Montgomery-Featherstonehaugh III and "
             "Anastasia Wolfeschlegelsteinhausenbergerdorff"} for i in range(1, 26)))
    staff_user("olivia", superuser=True)
    page.log_in("olivia")
    page.go("/admin/servicing/loan/")
    page.wait_for("#result_list")
    page.screenshot("loan-list-1400.png")
    width, scroll = page.driver.execute_script(
        "return [document.documentElement.clientWidth, document.documentElement.scrollWidth]")
    assert width <= 1400 and scroll <= width, (width, scroll)
    # The table's own box scrolls sideways when it is wider than the space it has: it must not need to.
    inner, shown = page.driver.execute_script(
        "const box = document.querySelector('#changelist .results');"
        "return [box.scrollWidth, box.clientWidth]")
    assert inner <= shown, (inner, shown)
    table = page.find("#result_list").rect
    assert table["x"] + table["width"] <= width
    autopay = page.find("#result_list tbody tr td.field-autopay").rect
    assert autopay["x"] + autopay["width"] <= page.find("#changelist-filter").rect["x"]
    assert page.find("#changelist-filter").rect["x"] + page.find("#changelist-filter").rect["width"] <= width


def test_the_dashboard_shows_the_default_servicing_states(page):
    from datetime import date

    from servicing.services.bankruptcy import bankruptcy_file
    from tests.actors import TESTS
    from tests.browser.conftest import staff_user
    from tests.integration.servicing.tapes import board

    board(*seed_rows(2))
    bankruptcy_file(loan_number="L002", chapter=13, case_number="26-10001", court="D. Springfield",
                    filed_on=date(2026, 3, 2), acting_user=TESTS)
    staff_user("olivia", superuser=True)
    page.log_in("olivia")
    page.go("/admin/")
    page.wait_for("#dash-default-states")
    row = page.find('#dash-default-states tr[data-state="bankruptcy_13"]')
    assert row.find_element("css selector", ".state-loans").text == "1"
    assert row.find_element("css selector", ".state-balance").text == "100,000.00"
    row.find_element("css selector", "a").click()
    page.wait_for("#result_list")
    assert "L002" in page.text("#result_list") and "L001" not in page.text("#result_list")
