"""A payment file's dates are checked in a number of queries that does not grow with its rows.

Each row's date passes the one business-time rule (not before boarding, not on or before a trust's
cut-off or a removal) at the preview the import starts with; the rules read every row of the file in
one query each (`ledger.business_time.dated_facts_problems`), not one query a row.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicing.services.payment_files import payment_file_import
from tests.actors import TESTS
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = pytest.mark.django_db
# What the dated-fact rules read: the loans' boarding dates and their pool memberships.
RULE_TABLES = ('FROM "servicing_loan" ', 'FROM "trusts_poolloan" ')


def rule_reads_to_import(first: int, rows: int) -> int:
    """Queries of the rules' tables while importing one payment each to `rows` loans from L<first> on."""
    lines = ["loan_number,received_on,amount,reference"] + [
        f"L{i:03d},2026-02-01,849.55,BANK-{i}" for i in range(first, first + rows)]
    with CaptureQueriesContext(connection) as captured:
        result = payment_file_import(raw=("\n".join(lines) + "\n").encode(), acting_user=TESTS)
    assert len(result.posted) == rows
    return sum(1 for q in captured.captured_queries if any(table in q["sql"] for table in RULE_TABLES))


def test_a_file_ten_times_longer_reads_the_rules_tables_as_often():
    board(*seed_rows(66))
    few = rule_reads_to_import(1, 6)
    assert 0 < few == rule_reads_to_import(7, 60)
