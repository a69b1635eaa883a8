"""The distribution statement page in a real headless Chromium (live server on PostgreSQL): reached from the
remittance report page, it shows the statement's sections (per class with CUSIP and per $1,000, credit
enhancement, collateral, delinquency, losses, speeds) and offers the PDF; the screenshot is kept."""
import pytest

from tests.browser.conftest import staff_user
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.conftest import loans  # noqa: F401
from tests.integration.trusts.deals import TRUST

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
SECTIONS = ("#statement-classes", "#statement-per-thousand", "#statement-credit-enhancement", "#statement-collateral",
            "#statement-delinquency", "#statement-losses", "#statement-speeds")


@pytest.fixture
def february(loans):  # noqa: F811
    seed_trust(classes=[{"name": "A", "face": "1000000.00", "coupon": "net-wac", "principal": "pro-rata",
                         "denomination": "1000.00", "cusip": "037833100"}])
    pay_everyone("2026-02")
    close("2026-02")


def test_the_statement_page_shows_its_sections_and_offers_the_pdf(page, february):
    staff_user("olivia", superuser=True)
    page.log_in("olivia")
    page.go(f"/admin/remittance/report/{TRUST}/2026-02/")
    page.wait_for("#statement-link")
    page.click("#statement-link")
    page.wait_for("#statement-classes")
    assert "Distribution statement" in page.text("h1") and TRUST in page.text("h1")
    for section in SECTIONS:
        assert page.find(section).is_displayed(), section
    assert "037833100" in page.text("#statement-classes")
    assert "0.99550000" in page.text("#statement-per-thousand")  # $995.50 of principal per $1,000 of $1,000,000
    assert "999,004.50" in page.text("#statement-collateral")
    assert "current" in page.text("#statement-delinquency")
    assert page.find("#statement-pdf").get_attribute("href").endswith("?format=pdf")
    assert page.screenshot("distribution-statement.png").stat().st_size > 10_000
