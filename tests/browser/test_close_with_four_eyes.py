"""A close asked for by one staff member, approved by another, run by a real Celery worker, then its report.

In a real headless Chromium against a live server on PostgreSQL, with a
Celery worker on Redis in the test process: the requester cannot approve
their own request, a staff member without the approval permission is not
offered the decision and is refused if they post it anyway, the approver's
click enqueues the close, and the remittance report shows its chart (the
screenshot is kept as a test artifact).
"""
import time

import pytest
from celery.contrib.testing.worker import start_worker

from approvals.models import ApprovalRequest
from config.celery import app
from ledger.models import Event
from remittance.events import PeriodClosed
from remittance.models import PeriodStatus, TrustPeriod
from tests.browser.conftest import staff_user
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.conftest import loans  # noqa: F401
from tests.integration.trusts.deals import TRUST

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

VIEW_AND_ASK = ("approvals.add_approvalrequest", "approvals.view_approvalrequest", "trusts.view_trust",
                "remittance.view_trustperiod", "remittance.view_periodresult")


@pytest.fixture
def february_closed_march_paid(loans):  # noqa: F811
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    pay_everyone("2026-03")


def test_a_close_is_requested_approved_by_another_and_its_report_shows_the_chart(page, february_closed_march_paid):
    staff_user("olivia", permissions=VIEW_AND_ASK)
    staff_user("clara", permissions=VIEW_AND_ASK)  # may ask, may not approve
    staff_user("victor", superuser=True)  # the approver

    page.log_in("olivia")
    page.go(f"/admin/approvals/approvalrequest/request-close/?trust={TRUST}&period=2026-03")
    page.click("input[type=submit][value=Request]")
    page.wait_for(".messagelist")
    request = ApprovalRequest.objects.get()
    assert request.state == "pending" and request.requested_by.username == "olivia"
    assert not page.find_all("#decision")  # nobody decides their own request
    assert "another staff member" in page.text("#decision-note")

    page.log_in("clara")
    page.go(f"/admin/approvals/approvalrequest/{request.pk}/change/")
    assert not page.find_all("#decision")  # no approval permission: no decision offered

    page.log_in("victor")
    page.go(f"/admin/approvals/approvalrequest/{request.pk}/change/")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        page.click("#decision input[name=approve]")
        page.wait_for(".messagelist")
        period = wait_until_closed(TRUST, "2026-03")
    assert period.status == PeriodStatus.CLOSED
    closed = Event.objects.get(event_type="PeriodClosed", payload__period="2026-03")
    decided = PeriodClosed.from_payload(closed.payload)
    assert (decided.requested_by, decided.approved_by) == ("olivia", "victor")
    assert closed.acting_user.username == "victor"

    page.go(f"/admin/remittance/report/{TRUST}/2026-03/")
    page.wait_for("#balance-chart")
    assert TRUST in page.text("h1") and "2026-03" in page.text("h1")
    chart = page.find("#balance-chart")
    assert chart.tag_name == "svg" and chart.size["width"] > 200 and chart.size["height"] > 100
    assert "4,996.50" in page.text("#content")  # March's payment to holders, as the close recorded it
    shot = page.screenshot("remittance-report.png")
    assert shot.stat().st_size > 10_000


def wait_until_closed(trust: str, period: str, timeout: float = 60) -> TrustPeriod:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = TrustPeriod.objects.filter(trust__code=trust, period=period).first()
        if row is not None and row.status == PeriodStatus.CLOSED:
            return row
        time.sleep(0.2)
    raise AssertionError(f"{trust} {period} did not close within {timeout}s: "
                         f"{TrustPeriod.objects.filter(trust__code=trust, period=period).values().first()}")
