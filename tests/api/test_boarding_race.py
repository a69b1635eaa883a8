"""Two uploads of loan tapes at the same moment, over the API, against PostgreSQL: never a 500.

Both uploads read which loans are new before either writes. The one that
comes second waits for the first (servicing.services.boarding takes turns)
and answers as a re-run does: the same tape's loans already boarded (201,
nothing twice), or a loan already boarded on other terms (422 naming it).
The test holds the first upload just after it decided what is new, long
enough for the second to decide too if nothing made it wait: without the
turns, both boarded the same loans and the second failed on the first's rows.
"""
import threading

import pytest

from ledger.models import Event
from servicing.models import Loan
from servicing.services import boarding
from tests.api.conftest import login
from tests.api.test_operations import upload
from tests.integration.servicing.tapes import seed_rows, tape
from tests.reliability.racing import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

HOLD_SECONDS = 2


@pytest.fixture
def both_decide_first(monkeypatch):
    """Hold each upload after it decided what is new until the other decided too (or HOLD_SECONDS passed)."""
    decided = threading.Barrier(2, timeout=HOLD_SECONDS)
    split_new = boarding._split_new

    def split_then_wait(rows):
        answer = split_new(rows)
        try:
            decided.wait()
        except threading.BrokenBarrierError:
            pass  # the other upload was waiting for its turn: exactly what should happen
        return answer

    monkeypatch.setattr(boarding, "_split_new", split_then_wait)


def upload_tape(raw: bytes):
    def post(client):
        return client.post("/api/v1/tapes/", {"file": upload(raw), "boarded_on": "2026-01-15"}, format="multipart")
    return post


def test_the_same_tape_twice_at_once_boards_each_loan_once(both_decide_first):
    raw = tape(*seed_rows(20))
    clients = [login("olivia", operations=True), login("oscar", operations=True)]
    answers = [o.value for o in race(upload_tape(raw), clients, refusals=())]
    assert sorted(a.status_code for a in answers) == [201, 201], [a.content[:300] for a in answers]
    bodies = sorted((a.json() for a in answers), key=lambda b: len(b["boarded"]))
    numbers = [f"L{i:03d}" for i in range(1, 21)]
    assert bodies == [{"boarded": [], "already_boarded": numbers}, {"boarded": numbers, "already_boarded": []}]
    assert Loan.objects.count() == 20 and Event.objects.filter(event_type="LoanBoarded").count() == 20


def test_two_tapes_that_disagree_on_a_loan_at_once_board_one_and_name_the_loan(both_decide_first):
    first = tape(*seed_rows(5))
    second = tape(*({"loan_number": f"L{i:03d}", "note_rate": "7"} for i in range(5, 9)))  # L005 on other terms
    clients = [login("olivia", operations=True), login("oscar", operations=True)]
    answers = [o.value for o in race(lambda pair: upload_tape(pair[1])(pair[0]), list(zip(clients, (first, second))),
                                     refusals=())]
    assert sorted(a.status_code for a in answers) == [201, 422], [a.content[:300] for a in answers]
    refused = next(a for a in answers if a.status_code == 422).json()["error"]
    assert refused["code"] == "file_rejected"
    assert any("loan L005 is already boarded on other terms" in p for p in refused["fields"]["file"]), refused
    boarded = next(a for a in answers if a.status_code == 201).json()["boarded"]
    assert sorted(Loan.objects.values_list("loan_number", flat=True)) == boarded
