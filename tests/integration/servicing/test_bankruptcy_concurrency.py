"""Bankruptcy filings racing each other and a foreclosure on PostgreSQL: one open case, the stay always held."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connections

from ledger.models import Event
from ledger.verification import verify
from servicing.errors import ServicingError
from servicing.models import LoanPosition
from servicing.services.bankruptcy import StayInEffect, bankruptcy_file
from servicing.services.default import foreclosure_start
from tests.actors import TESTS
from tests.integration.servicing.tapes import SEED_ROW, board

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]
THREADS = 4


def _at_once(*acts):
    barrier = threading.Barrier(len(acts))

    def run(act):
        try:
            barrier.wait()
            return act()
        except ServicingError as refused:
            return refused
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(acts)) as pool:
        return list(pool.map(run, acts))


def test_four_filings_at_once_open_exactly_one_case():
    board(SEED_ROW)
    results = _at_once(*(lambda n=n: bankruptcy_file(loan_number="L001", chapter=13, case_number=f"26-{n}",
                                                     court="D. Springfield", filed_on=date(2026, 3, 1),
                                                     acting_user=TESTS) for n in range(THREADS)))
    refused = [r for r in results if isinstance(r, ServicingError)]
    assert len(refused) == THREADS - 1 and all("is still open; a second case cannot be filed" in str(r)
                                               for r in refused)
    assert Event.objects.filter(event_type="BankruptcyFiled").count() == 1
    assert LoanPosition.objects.get(loan_id="L001").bankruptcy_chapter == 13
    report = verify()
    assert report.ok, report.problems


def test_a_filing_racing_a_foreclosure_start_either_comes_first_or_stays_it():
    board(SEED_ROW)  # unpaid since 2026-02-01: foreclosure may start on 2026-06-02 unless stayed
    filing, foreclosure = _at_once(
        lambda: bankruptcy_file(loan_number="L001", chapter=7, case_number="26-7", court="D. Springfield",
                                filed_on=date(2026, 5, 1), acting_user=TESTS),
        lambda: foreclosure_start(loan_number="L001", started_on=date(2026, 6, 2), acting_user=TESTS))
    assert not isinstance(filing, ServicingError)  # a filing is taken in foreclosure too
    position = LoanPosition.objects.get(loan_id="L001")
    if isinstance(foreclosure, StayInEffect):
        assert position.status == "active" and filing.version == 2
    else:
        assert position.status == "foreclosure" and foreclosure.version == 2 and filing.version == 3
    report = verify()
    assert report.ok, report.problems
