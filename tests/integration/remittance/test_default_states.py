"""Default-servicing states: the selector's counts and balances, the dashboard panel, the loans' list filter.

The loss-mitigation steps (forbearance, repayment plan, trial, modified) are recorded by their own events,
which this branch does not write: these tests put them on the positions by a direct row update
(`in_loss_mitigation`, a test helper only). Bankruptcy, foreclosure and REO come through the services.
"""
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.business_time import business_day
from remittance.selectors import dashboard
from servicing.domain.default_states import DEFAULT_STATES, default_servicing
from servicing.models import LoanPosition
from servicing.services.bankruptcy import bankruptcy_file
from servicing.services.default import foreclosure_start, reo_acquire
from servicing.services.delinquency import loan_age
from servicing.services.payments import payment_post
from tests.actors import TESTS
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = pytest.mark.django_db
UPB = 10_000_000
DEFERRED = 500_000


def in_loss_mitigation(loan: str, step: str, deferred_cents: int = 0) -> None:
    """Test helper: the loss-mitigation step another branch's events will write, set on the row directly."""
    LoanPosition.objects.filter(loan_id=loan).update(loss_mitigation=step, deferred_principal_cents=deferred_cents)


@pytest.fixture
def portfolio():
    with business_day(date(2026, 12, 31)):
        board(*seed_rows(10))
        for loan, step in (("L001", "forbearance"), ("L002", "repayment_plan"), ("L003", "trial"),
                           ("L006", "forbearance")):
            in_loss_mitigation(loan, step)
        in_loss_mitigation("L004", "modified", DEFERRED)
        for loan, chapter in (("L005", 7), ("L006", 13)):
            bankruptcy_file(loan_number=loan, chapter=chapter, case_number=f"26-{loan}", court="D. Springfield",
                            filed_on=date(2026, 3, 2), acting_user=TESTS)
        for loan in ("L007", "L008"):
            loan_age(loan_number=loan, as_of=date(2026, 6, 2), acting_user=TESTS)
            foreclosure_start(loan_number=loan, started_on=date(2026, 6, 2), acting_user=TESTS)
        reo_acquire(loan_number="L008", acquired_on=date(2026, 9, 1), acting_user=TESTS)
        # L010 pays off: a closed loan is in no state.
        in_loss_mitigation("L010", "modified")
        payment_post(loan_number="L010", amount_cents=11_000_000, received_on=date(2026, 2, 1), reference="PAYOFF",
                     acting_user=TESTS)
        assert LoanPosition.objects.get(loan_id="L010").status == "paid_off"


def test_the_selector_counts_each_state_with_its_balance_and_buckets(portfolio):
    with CaptureQueriesContext(connection) as queries:
        rows = {r.state.name: r for r in dashboard.default_servicing_states()}
    assert len(queries) == 1
    assert list(rows) == [s.name for s in DEFAULT_STATES]
    assert {name: (r.loans, r.unpaid_cents) for name, r in rows.items()} == {
        "forbearance": (2, 2 * UPB), "repayment_plan": (1, UPB), "trial": (1, UPB),
        "modified": (1, UPB + DEFERRED), "bankruptcy_7": (1, UPB), "bankruptcy_13": (1, UPB),
        "foreclosure": (1, UPB), "reo": (1, UPB),
    }
    assert rows["foreclosure"].by_bucket == {"current": 0, "30": 0, "60": 0, "90+": 1}
    assert rows["bankruptcy_13"].by_bucket == {"current": 1, "30": 0, "60": 0, "90+": 0}


def test_the_selector_agrees_with_the_pure_function_on_every_open_loan(portfolio):
    counted = {s.name: 0 for s in DEFAULT_STATES}
    for position in LoanPosition.objects.exclude(status__in=("paid_off", "liquidated", "charged_off")):
        for name in default_servicing(position).names:
            counted[name] += 1
    assert counted == {r.state.name: r.loans for r in dashboard.default_servicing_states()}
    l006 = default_servicing(LoanPosition.objects.get(loan_id="L006"))
    assert l006.names == ("forbearance", "bankruptcy_13")
    assert l006.describe() == "in forbearance; in bankruptcy, chapter 13 (MBA current)"
    assert default_servicing(LoanPosition.objects.get(loan_id="L009")).describe() == "none (MBA current)"


def test_with_no_loan_in_default_every_state_is_zero():
    board(*seed_rows(2))
    assert [(r.loans, r.unpaid_cents) for r in dashboard.default_servicing_states()] == [(0, 0)] * len(DEFAULT_STATES)


def test_the_dashboard_shows_the_panel_and_the_list_filters_by_state(portfolio, admin_client):
    with business_day(date(2026, 12, 31)):
        html = admin_client.get("/admin/").content.decode()
    start = html.index('id="dash-default-states"')
    panel = html[start:html.index("</section>", start)]
    row = re.search(r'data-state="bankruptcy_13".*?href="(.*?)".*?state-loans">(.*?)<.*?state-balance">(.*?)<',
                    panel, re.DOTALL)
    assert row.group(2) == "1" and row.group(3) == "100,000.00"
    assert 'data-state="modified"' in panel and "105,000.00" in panel  # deferred principal included
    listing = admin_client.get(row.group(1).replace("&amp;", "&")).content.decode()
    assert "L006" in listing and "L005" not in listing and "L001" not in listing
    listing = admin_client.get(reverse("admin:servicing_loan_changelist"), {"default_state": "forbearance"})
    found = set(re.findall(r">(L0\d\d)<", listing.content.decode()))
    assert found == {"L001", "L006"}
