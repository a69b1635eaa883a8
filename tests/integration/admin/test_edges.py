"""Admin edges a careless user (or a crafted link) hits: odd months, NULs, paid-off factors, deleting logins.

Each answers a clean page or a 4xx that says why, never a 500.
"""
from decimal import Decimal

import pytest
from django.test import Client

from remittance.models import ClassPeriod, PeriodResult
from trusts.models import Holder, SecurityClass, Trust

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_page(admin_user):
    """The admin as a browser sees it: a crash is a 500 page, not an exception raised into the test."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "10000-01", "2026-13", "26-02", "x" * 500])
def test_a_month_the_dashboard_cannot_show_gives_the_current_month_and_says_so(admin_page, month):
    page = admin_page.get("/admin/", {"month": month})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="month-refused"' in html and "is not a month this page can show" in html


def test_the_first_and_last_months_that_have_neighbours_are_shown(admin_page):
    for month, before, after in (("9999-11", "9999-10", "9999-12"), ("0001-02", "0001-01", "0001-03")):
        html = admin_page.get("/admin/", {"month": month}).content.decode()
        assert f"Collections against scheduled, {month}" in html and 'id="month-refused"' not in html
        assert f"?month={before}" in html and f"?month={after}" in html


@pytest.mark.parametrize("address", [
    "/admin/servicing/loan/%00/change/", "/admin/servicing/loan/L001%00/change/",
    "/admin/servicing/loan/?loan_number=%00", "/admin/servicing/loan/?position__status__in=%00",
    "/admin/ledger/event/?stream=%00", "/admin/?month=%00", "/admin/servicing/loan/?q=a%00b",
    "/admin/servicing/loan/?%00=1", "/admin/trusts/holder/%00/history/",
])
def test_a_nul_in_the_address_is_a_400_that_says_why(admin_page, address):
    page = admin_page.get(address)
    assert page.status_code == 400, (address, page.status_code)
    assert "NUL" in page.content.decode()


def test_a_nul_under_the_api_is_a_400_in_its_json_shape(admin_page):
    answer = admin_page.get("/api/v1/loans/", {"search": "\x00"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


def test_a_paid_off_class_shows_factor_0_00000000_in_the_admin(admin_page, closed_month):
    ClassPeriod.objects.update(factor=Decimal(0), balance_end_cents=0)  # as a class paid off in full is stored
    PeriodResult.objects.update(pool_factor=Decimal(0), pool_balance_end_cents=0)
    trust = Trust.objects.get()
    pages = ["/admin/remittance/classperiod/", "/admin/remittance/periodresult/", "/admin/trusts/securityclass/",
             f"/admin/trusts/trust/{trust.pk}/change/",
             f"/admin/trusts/securityclass/{SecurityClass.objects.first().pk}/change/",
             f"/admin/trusts/holder/{Holder.objects.first().pk}/change/",
             f"/admin/remittance/classperiod/{ClassPeriod.objects.first().pk}/change/",
             f"/admin/remittance/periodresult/{PeriodResult.objects.first().pk}/change/"]
    for address in pages:
        page = admin_page.get(address)
        assert page.status_code == 200, address
        html = page.content.decode()
        assert "0E-8" not in html and "E-8" not in html, address
    assert "0.00000000" in admin_page.get(f"/admin/trusts/trust/{trust.pk}/change/").content.decode()
