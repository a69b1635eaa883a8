"""The operations dashboard on the admin index: delinquency, collections, periods, exceptions, the schedule.

The portfolio: n seed loans ($100,000 at 6%, P&I 599.55, escrow 250.00, first due 2026-02-01) of which
L001-L010 form the seed's trust, here scheduled/scheduled so the servicer advances for a loan that does
not pay. In February everyone pays one installment except L002, which is 30 days late at the month's
end; L003 also sends 400.00 towards March, which waits in suspense; February closes; on 1 March L004's
tax bill of 1,200.00 is paid from its 250.00 of escrow, the servicer advancing the other 950.00.
"""
import re
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.selectors import account_balance
from ledger.verification import verify
from remittance.selectors import dashboard
from remittance.domain.trust_calendar import Period
from servicing.services.delinquency import loans_age
from servicing.services.escrow import escrow_disburse_due, escrow_item_add
from tests.actors import TESTS
from tests.integration.remittance.months import close, pay, seed_trust
from tests.integration.servicing.tapes import board
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db
FEBRUARY = Period(2026, 2)
PI_CENTS = 59_955
BALANCE_AFTER_ONE_CENTS = 10_000_000 - 9_955  # 99,900.45 after February's scheduled principal
INDEX = "/admin/"


def portfolio(count: int, first: int = 1):
    """Loans L{first}..L{first+count-1} boarded, each paying February except L002 (see the module docstring)."""
    numbers = [f"L{i:03d}" for i in range(first, first + count)]
    board(*({"loan_number": n} for n in numbers))
    for number in numbers:
        if number != "L002":
            pay(number, FEBRUARY)
    return numbers


@pytest.fixture
def seeded():
    portfolio(12)
    seed_trust(remittance_type="scheduled/scheduled")
    pay("L003", FEBRUARY, cents=40_000, day=20, tag="-toward-march")
    loans_age(as_of=date(2026, 2, 28), acting_user=TESTS)
    close("2026-02")
    escrow_item_add(loan_number="L004", kind="property_tax", payee="Springfield County Treasurer",
                    annual_amount_cents=240_000, due_dates=["2026-03-01", "2026-09-01"], acting_user=TESTS)
    escrow_disburse_due(as_of=date(2026, 3, 1), acting_user=TESTS)
    assert verify().ok


def index(client, **params) -> str:
    response = client.get(INDEX, params)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start:html.index("</section>", start)]


def bucket_row(html: str, bucket: str) -> tuple[str, str]:
    row = re.search(rf'data-bucket="{re.escape(bucket)}".*?bucket-loans">(.*?)<.*?bucket-balance">(.*?)<', html, re.DOTALL)
    return row.group(1), row.group(2)


def test_the_selectors_count_the_portfolio(seeded):
    buckets = {b.bucket: (b.loans, b.unpaid_cents) for b in dashboard.delinquency_buckets()}
    assert buckets == {"current": (11, 11 * BALANCE_AFTER_ONE_CENTS), "30": (1, 10_000_000), "60": (0, 0),
                       "90+": (0, 0)}
    month = dashboard.collections_against_scheduled(FEBRUARY)
    assert (month.loans_scheduled, month.scheduled_pi_cents) == (12, 12 * PI_CENTS)
    assert (month.loans_paid, month.interest_cents, month.scheduled_principal_cents) == (11, 11 * 50_000, 11 * 9_955)
    assert month.collected_pi_cents == 11 * PI_CENTS and month.shortfall_cents == PI_CENTS and month.percent == 91
    assert month.prepaid_cents == 0
    e = dashboard.exceptions()
    assert (e.suspense_loans, e.suspense_cents, e.suspense_top) == (1, 40_000, [("L003", 40_000)])
    assert (e.escrow_loans, e.escrow_advance_cents, e.escrow_top) == (1, 95_000, [("L004", 95_000)])
    advanced = account_balance(f"servicer:advances:{TRUST}")
    assert advanced > 0 and dashboard.servicer_advances() == [(TRUST, advanced)]
    [periods] = dashboard.trust_periods(date(2026, 4, 2))
    assert periods.counts == {"open": 0, "closing": 0, "closed": 1}
    assert [p.period for p in periods.latest] == ["2026-02"]
    assert (str(periods.next_period), periods.next_ended, periods.next_status) == ("2026-03", True, "not started")


def test_the_dashboard_shows_the_buckets_with_count_and_balance(admin_client, seeded):
    html = section(index(admin_client), "dash-delinquency")
    assert bucket_row(html, "current") == ("11", "1,098,904.95")
    assert bucket_row(html, "30") == ("1", "100,000.00")
    assert bucket_row(html, "60") == ("0", "0.00") and bucket_row(html, "90+") == ("0", "0.00")
    loans = reverse("admin:servicing_loan_changelist")
    assert f'href="{loans}?position__delinquency_bucket__exact=30&amp;position__status__in=' in html


def test_the_dashboard_shows_collections_against_scheduled(admin_client, seeded):
    html = section(index(admin_client, month="2026-02"), "dash-collections")
    assert "Collections against scheduled, 2026-02" in html
    assert 'id="scheduled-pi">7,194.60<' in html  # 12 x 599.55
    assert 'id="collected-pi">6,595.05<' in html and "(11 loans paid), 91% of scheduled" in html
    assert ">5,500.00<" in html and ">1,095.05<" in html and ">599.55<" in html  # interest, principal, to collect


def test_the_dashboard_shows_the_exceptions(admin_client, seeded):
    html = section(index(admin_client), "dash-exceptions")
    assert re.search(r'id="suspense-summary">1 loan, 400.00', html)
    assert f'href="{reverse("admin:servicing_loan_change", args=["L003"])}">L003</a> 400.00' in html
    assert re.search(r'id="escrow-summary">1 loan, 950.00', html)
    assert f'href="{reverse("admin:servicing_loan_change", args=["L004"])}">L004</a> 950.00' in html
    advanced = account_balance(f"servicer:advances:{TRUST}")
    assert f'data-trust="{TRUST}">{TRUST}: {advanced // 100:,}.{advanced % 100:02d}<' in html


def test_the_dashboard_shows_the_periods_and_links_the_reports(admin_client, seeded):
    html = section(index(admin_client), "dash-periods")
    row = html[html.index(f'data-trust="{TRUST}"'):]
    assert re.search(r"status__exact=closed\">1<", row) and re.search(r"status__exact=open\">0<", row)
    assert f'href="{reverse("admin:remittance_report", args=[TRUST, "2026-02"])}">2026-02</a>' in row
    assert "2026-03" in row


def test_the_month_end_schedule_is_linked(admin_client, seeded):
    html = section(index(admin_client), "dash-schedule")
    assert f'href="{reverse("admin:django_celery_beat_periodictask_changelist")}"' in html
    assert "Month-end close of every trust" in html and "remittance.month_end_close" in html and "enabled" in html


def test_every_link_on_the_dashboard_opens(admin_client, seeded):
    html = index(admin_client, month="2026-02")
    dash = html[html.index('id="operations-dashboard"'):html.index('id="content-main"')]
    links = set(re.findall(r'href="([^"#]+)"', dash))
    assert len(links) > 15
    for link in links:
        url = link.replace("&amp;", "&")
        url = url if url.startswith("/") else INDEX + url
        assert admin_client.get(url).status_code == 200, url


def test_the_queries_do_not_grow_with_the_loans(admin_client, seeded, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        index(admin_client, month="2026-02")
    portfolio(40, first=13)  # 40 more loans, every one paying
    with django_assert_max_num_queries(len(small)):
        html = index(admin_client, month="2026-02")
    assert bucket_row(section(html, "dash-delinquency"), "current") == ("51", "5,094,922.95")


def test_sections_follow_the_logins_permissions(client, seeded):
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)
    html = index(client)
    assert 'id="dash-delinquency"' not in html and 'id="dash-periods"' not in html
    clerk.user_permissions.add(Permission.objects.get(codename="view_loan"))
    html = index(client)
    assert 'id="dash-delinquency"' in html and 'id="dash-periods"' not in html
    assert 'id="suspense-summary"' in html and 'id="advances-summary"' not in html


def test_the_trends_sum_each_months_collections_and_delinquency_as_of_its_end(seeded):
    # March: every loan but L002 pays again (with its escrow), L001 also curtails $1,000; L002 (behind since February) is 60 days
    # late at March's end. The January column is before anything happened.
    for number in (f"L{i:03d}" for i in range(1, 13)):
        if number != "L002":
            pay(number, Period(2026, 3), cents=PI_CENTS + 25_000 + (100_000 if number == "L001" else 0))
    loans_age(as_of=date(2026, 3, 31), acting_user=TESTS)
    trends = dashboard.monthly_trends(Period(2026, 3), months=3)
    assert [str(p) for p in trends.periods] == ["2026-01", "2026-02", "2026-03"]
    february_interest = 11 * 50_000  # each paying loan's first month: 6% of $100,000 / 12
    assert trends.collected["interest"][:2] == (0, february_interest)
    assert trends.collected["scheduled principal"][1] == 11 * 9_955
    # L001's $1,000, and L003's 400.00 that waited in suspense since February and curtails once March is paid.
    assert trends.collected["curtailments and payoffs"] == (0, 0, 100_000 + 40_000)
    assert trends.collected["liquidations"] == (0, 0, 0)
    # Each month against the collection lines it sums, independently.
    march = dashboard.collections_against_scheduled(Period(2026, 3))
    assert trends.collected["interest"][2] == march.interest_cents
    assert trends.collected["scheduled principal"][2] == march.scheduled_principal_cents
    # L002 owed its whole $100,000: 30 days behind at February's end, 60 at March's (the agings of those days).
    assert trends.delinquent == {"30": (0, 10_000_000, 0), "60": (0, 0, 10_000_000), "90+": (0, 0, 0)}


def test_the_dashboard_draws_the_trend_charts(admin_client, seeded):
    html = section(index(admin_client, month="2026-02"), "dash-trends")
    assert "the twelve months to 2026-02" in html
    assert html.count("<svg") == 2 and 'id="trend-collections"' in html and 'id="trend-delinquency"' in html
    assert 'data-series="interest"' in html and 'data-series="30 days"' in html
