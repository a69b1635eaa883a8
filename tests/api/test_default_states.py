"""The operations API's loans: each loan's default-servicing states, and the filter by state."""
from datetime import date

import pytest

from servicing.services.bankruptcy import bankruptcy_file
from tests.actors import TESTS
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = pytest.mark.django_db


def test_loans_show_their_states_and_filter_by_one(olivia):
    board(*seed_rows(3))
    bankruptcy_file(loan_number="L002", chapter=7, case_number="26-7", court="D. Springfield",
                    filed_on=date(2026, 3, 2), acting_user=TESTS)
    listed = {r["loan_number"]: r["default_states"] for r in olivia.get("/api/v1/loans/").json()["results"]}
    assert listed == {"L001": [], "L002": ["bankruptcy_7"], "L003": []}
    found = olivia.get("/api/v1/loans/", {"default_state": "bankruptcy_7"}).json()["results"]
    assert [r["loan_number"] for r in found] == ["L002"]
    assert olivia.get("/api/v1/loans/", {"default_state": "bankruptcy_13"}).json()["count"] == 0
    assert olivia.get("/api/v1/loans/", {"default_state": "chapter_11"}).status_code == 400
