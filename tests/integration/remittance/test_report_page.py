"""The remittance report page in the admin: the seed's month to the cent, its chart, downloads, 404s, permissions."""
import json
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from analytics.selectors import realized_speeds
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodResult, TrustPeriod
from tests.integration.remittance.months import (
    INSTALLMENT_CENTS,
    SEED_LOANS,
    close,
    pay,
    pay_everyone,
    seed_trust,
)
from tests.integration.trusts.deals import TRUST
from trusts.models import Trust

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def report_url(period="2026-02", trust=TRUST):
    return reverse("admin:remittance_report", args=[trust, period])


@pytest.fixture
def february(loans):
    """The seed's trust, everyone paying February 2026, closed."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def chart(html: str) -> ET.Element:
    """The inline SVG chart of a page, parsed as XML."""
    match = re.search(r'<svg[^>]*id="balance-chart".*?</svg>', html, re.DOTALL)
    assert match, "no balance chart on the page"
    return ET.fromstring(match.group(0))


def series(root: ET.Element) -> dict[str, int]:
    """Each line's name and how many points it has."""
    return {p.get("data-series"): len(p.get("points").split()) for p in root.iter(f"{SVG}polyline")}


def test_the_url_is_under_the_remittance_admin():
    assert report_url() == "/admin/remittance/report/XYZ-2026-1/2026-02/"


def test_the_seeds_first_month_to_the_cent(admin_client, february):
    html = page(admin_client, report_url())
    assert "<h1>Remittance report XYZ-2026-1 2026-02</h1>" in html
    assert "2026-02-27" in html and "2026-03-25" in html  # record and payment dates
    collections = html[html.index('id="report-collections"'):html.index('id="report-fees"')]
    assert re.search(r"interest</td><td[^>]*>5,000.00<", collections)
    assert re.search(r"scheduled principal</td><td[^>]*>995.50<", collections)
    assert re.search(r"cash collected</td><td[^>]*>5,995.50<", collections)
    fees = html[html.index('id="report-fees"'):html.index('id="report-waterfall"')]
    assert fees.count(">500.00<") == 6  # fee and spread: this period, due and paid
    waterfall = html[html.index('id="report-waterfall"'):html.index('id="report-speeds"')]
    for figure in ("1,000,000.00", "4,000.00", "995.50", "999,004.50", "0.99900450"):
        assert f">{figure}<" in waterfall
    holders = html[html.index('id="report-holders"'):html.index('id="report-reconciliation"')]
    assert "Paid to 10 holders (10 payments): 4,995.50." in holders
    assert holders.count(">499.55<") == 10 and "INV-01 Investor 1" in holders


def test_the_realized_speeds_of_the_period(admin_client, loans):
    seed_trust()
    for loan in SEED_LOANS:  # L001 curtails $10,000 in February
        pay(loan, Period.parse("2026-02"), INSTALLMENT_CENTS + (1_000_000 if loan == "L001" else 0))
    close("2026-02")
    html = page(admin_client, report_url())
    section = html[html.index('id="report-speeds"'):html.index('id="report-holders"')]
    realized = realized_speeds(TRUST, "2026-02")
    assert realized.speeds.smm > 0
    for name in ("smm", "cpr", "psa"):
        assert f'<td class="num speed-{name}">{getattr(realized.speeds, name):.6f}</td>' in section
    assert ">989,004.50<" in section and ">999,004.50<" in section  # actual and scheduled end balances
    # The windows: February is the only closed month, so 1 month and life are stated and the rest are n/a.
    one = section[section.index('class="speed-window-1m"'):section.index('class="speed-window-3m"')]
    assert f'<td class="num">{realized.split.cpr:.6f}</td>' in one and ">0.000000<" in one  # voluntary CPR, MDR
    three = section[section.index('class="speed-window-3m"'):section.index('class="speed-window-6m"')]
    assert three.count(">n/a<") == 6
    assert "Voluntary prepayments (curtailments and payoffs) 10,000.00" in section


def test_every_reconciliation_line_reads_ok(admin_client, february):
    html = page(admin_client, report_url())
    section = html[html.index('id="report-reconciliation"'):]
    assert section.count('class="reconciliation-line ok"') == 4 and "mismatch" not in section
    assert "Cash in = cash out" in section and section.count(">5,995.50<") == 2


def test_the_chart_draws_the_pool_and_each_class(admin_client, february):
    close_march()
    root = chart(page(admin_client, report_url("2026-03")))
    assert root.tag == f"{SVG}svg"
    assert series(root) == {"Pool": 2, "Class A": 2}  # February and March
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "x-tick"] == ["2026-02", "2026-03"]
    # February's page draws only what was closed by then.
    assert series(chart(page(admin_client, report_url()))) == {"Pool": 1, "Class A": 1}


def close_march():
    pay_everyone("2026-03")
    close("2026-03")


def test_previous_and_next_period_links(admin_client, february):
    close_march()
    assert f'href="{report_url("2026-03")}" rel="next"' in page(admin_client, report_url())
    march = page(admin_client, report_url("2026-03"))
    assert f'href="{report_url()}" rel="prev"' in march and 'rel="next"' not in march


def test_csv_and_json_downloads(admin_client, february):
    html = page(admin_client, report_url())
    assert f'href="{report_url()}?format=csv"' in html and f'href="{report_url()}?format=json"' in html
    response = admin_client.get(report_url(), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="remittance-XYZ-2026-1-2026-02.csv"'
    assert "collections,by_kind.interest,5000.00" in response.content.decode()
    data = json.loads(admin_client.get(report_url(), {"format": "json"}).content)
    assert data["collections"]["by_kind"]["interest"] == "5000.00" and data["reconciliation"]["reconciled"] is True


def test_a_paid_off_class_has_a_plain_zero_factor(admin_client, loans):
    seed_trust(classes=[
        {"name": "A1", "face": "500.00", "coupon": "net-wac", "principal": "sequential", "priority": 1,
         "denomination": "500.00"},
        {"name": "A2", "face": "999500.00", "coupon": "net-wac", "principal": "sequential", "priority": 2,
         "denomination": "500.00"}],
        holders=[{"code": "INV-01", "name": "Investor 1", "class": "A1", "face": "500.00"},
                 {"code": "INV-02", "name": "Investor 2", "class": "A2", "face": "999500.00"}])
    pay_everyone("2026-02")
    close("2026-02")
    html = page(admin_client, report_url())
    assert ">0.00000000<" in html and "0E-8" not in html
    assert series(chart(html)) == {"Pool": 1, "Class A1": 1, "Class A2": 1}


@pytest.mark.parametrize(("trust", "period", "message"), [
    ("NOPE", "2026-02", "There is no trust &#x27;NOPE&#x27;."),
    (TRUST, "2026-13", "No report for XYZ-2026-1 &#x27;2026-13&#x27;: no such period: 2026-13."),
    (TRUST, "2026-04", "XYZ-2026-1 2026-04 has not been closed: no close has been started for it."),
])
def test_no_report_answers_404_saying_why(admin_client, february, trust, period, message):
    response = admin_client.get(report_url(period, trust))
    assert response.status_code == 404
    assert message in response.content.decode()


def test_a_period_being_closed_answers_404(admin_client, february):
    TrustPeriod.objects.create(trust=Trust.objects.get(code=TRUST), period="2026-03", status="closing",
                               record_date=date(2026, 3, 31), payment_date=date(2026, 4, 27))
    response = admin_client.get(report_url("2026-03"))
    assert response.status_code == 404
    assert "XYZ-2026-1 2026-03 is not closed yet (status: closing)." in response.content.decode()


def test_a_closed_period_without_its_result_answers_404(admin_client, february):
    """The period's own record says closed but the read model is missing (e.g. mid-rebuild)."""
    TrustPeriod.objects.create(trust=Trust.objects.get(code=TRUST), period="2026-03", status="closed",
                               record_date=date(2026, 3, 31), payment_date=date(2026, 4, 27),
                               through_position=1, closed_at=timezone.now())
    response = admin_client.get(report_url("2026-03"))
    assert response.status_code == 404
    assert "is marked closed but its result is missing" in response.content.decode()


def test_staff_need_view_permission_on_period_results(client, february):
    staff = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(report_url()).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_periodresult"))
    assert client.get(report_url()).status_code == 200
    client.logout()
    assert client.get(report_url()).status_code == 302  # to the login page


def test_the_lists_link_to_the_report_and_show_the_status(admin_client, february):
    link = f'<a href="{report_url()}">report</a>'
    results = page(admin_client, reverse("admin:remittance_periodresult_changelist"))
    assert link in results and ">closed<" in results
    periods = page(admin_client, reverse("admin:remittance_trustperiod_changelist"))
    assert link in periods
    assert PeriodResult.objects.count() == 1
