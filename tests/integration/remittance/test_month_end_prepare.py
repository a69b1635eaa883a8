"""Before the closes fan out, the month-end refreshes the planner's statistics of what a close reads."""
import pytest
from django.db import connection

from remittance.services.closing import month_end_prepare
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


def _planner_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def _postings() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ledger_posting")
        return cursor.fetchone()[0]


def test_month_end_prepare_gives_the_planner_the_postings_just_loaded():
    board(*seed_rows(3))
    month_end_prepare()
    # ANALYZE reads every row of a table this small, so the planner's count is exact.
    assert _planner_rows("ledger_posting") == _postings()
    board(*[{"loan_number": f"N{i:03d}"} for i in range(1, 8)])  # a load after it: the planner has not seen it
    assert _planner_rows("ledger_posting") != _postings()
    month_end_prepare()
    assert _planner_rows("ledger_posting") == _postings()
