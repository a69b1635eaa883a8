"""Importing payment files: all rows or none, every bad row reported, never a reference twice."""
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger import business_time
from ledger.models import Event
from ledger.selectors import recorded_events
from ledger.verification import verify
from servicing.errors import FileRejected
from servicing.events import loan_fact
from servicing.models import LoanPosition
from tests.actors import TESTS
from servicing.services.payment_files import payment_file_import, payment_file_preview
from servicing.services.payments import payment_post
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = pytest.mark.django_db


def payment_file(*rows) -> bytes:
    lines = ["loan_number,received_on,amount,reference"] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


GOOD = payment_file(
    ("L001", "2026-02-01", "849.55", "BANK-1"),
    ("L002", "2026-02-01", "400.00", "BANK-2"),
    ("L003", "2026-02-02", "1849.55", "BANK-3"),
)


@pytest.fixture(autouse=True)
def loans():
    board(*seed_rows(3))


def payments():
    return Event.objects.exclude(event_type="LoanBoarded").count()


def test_a_good_file_posts_every_row_in_order_and_a_reimport_posts_nothing_twice():
    result = payment_file_import(raw=GOOD, acting_user=TESTS)
    assert [r.reference for r in result.posted] == ["BANK-1", "BANK-2", "BANK-3"]
    assert [r.event.position for r in result.posted] == sorted(r.event.position for r in result.posted)
    assert LoanPosition.objects.get(loan_id="L002").suspense_cents == 40_000
    assert LoanPosition.objects.get(loan_id="L003").principal_balance_cents == 10_000_000 - 9_955 - 100_000
    again = payment_file_import(raw=GOOD, acting_user=TESTS)
    assert again.posted == [] and [r.reference for r in again.already_posted] == ["BANK-1", "BANK-2", "BANK-3"]
    assert payments() == 3
    bigger = payment_file_import(raw=GOOD[:-1] + b"\nL001,2026-02-03,10.00,BANK-4\n", acting_user=TESTS)
    assert [r.reference for r in bigger.posted] == ["BANK-4"] and len(bigger.already_posted) == 3
    assert payments() == 4 and verify().ok


def test_a_file_with_bad_rows_posts_nothing_and_reports_every_one():
    payment_post(loan_number="L003", amount_cents=20_000_000, received_on=date(2026, 2, 1), reference="GONE",
                 acting_user=TESTS)
    payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 1), reference="USED",
                 acting_user=TESTS)
    tomorrow = (business_time.today() + timedelta(days=1)).isoformat()
    raw = payment_file(
        ("L001", "2026-02-01", "849.55", "OK-1"),
        ("L001", "2026-02-01", "84.555", "B-1"),
        ("L001", "2026-02-01", "-1.00", "B-2"),
        ("L001", "2026-02-01", "0", "B-3"),
        ("L001", "2026-02-31", "10.00", "B-4"),
        ("L001", tomorrow, "10.00", "B-5"),
        ("NOPE", "2026-02-01", "10.00", "B-6"),
        ("L003", "2026-02-01", "10.00", "B-7"),
        ("L002", "2026-02-01", "10.00", "OK-1"),
        ("L002", "2026-02-01", "10.00", "USED"),
    )
    before = Event.objects.count()
    with pytest.raises(FileRejected) as rejected:
        payment_file_import(raw=raw, acting_user=TESTS)
    assert [str(p) for p in rejected.value.problems] == [
        "line 3: amount: '84.555' has fractions of a cent",
        "line 4: amount: '-1.00' is negative; the amount must be zero or more",
        "line 5: amount 0 must be more than zero",
        "line 6: received_on '2026-02-31' is not an ISO date (YYYY-MM-DD)",
        f"line 7: received_on {tomorrow} is in the future (today is {business_time.today().isoformat()})",
        "line 8: loan NOPE is not boarded",
        "line 9: loan L003 is paid off; it takes no more payments",
        "line 10: reference OK-1 is in the file twice (also line 2)",
        "line 11: reference USED was already used for 849.55 to loan L001 received on 2026-02-01 (PaymentPosted, "
        f"position {Event.objects.get(idempotency_key='payment:USED').position}); this request is 10.00 to loan "
        "L002 received on 2026-02-01: a new payment needs a new reference",
    ]
    assert "payment file rejected, nothing recorded: 9 bad row(s)" in str(rejected.value)
    assert Event.objects.count() == before


def test_a_row_refused_while_posting_rolls_back_the_whole_file():
    raw = payment_file(
        ("L002", "2026-02-01", "849.55", "A-1"),
        ("L001", "2026-02-01", "200000.00", "A-2"),  # pays L001 off
        ("L001", "2026-02-02", "849.55", "A-3"),
    )
    before = Event.objects.count()
    with pytest.raises(FileRejected, match="line 4: loan L001 is paid off; it takes no more payments"):
        payment_file_import(raw=raw, acting_user=TESTS)
    assert Event.objects.count() == before
    assert LoanPosition.objects.get(loan_id="L002").stream_version == 1


def test_preview_shows_rows_and_problems_without_posting():
    payment_file_import(raw=payment_file(("L001", "2026-02-01", "849.55", "BANK-1")), acting_user=TESTS)
    preview = payment_file_preview(raw=GOOD + b"NOPE,2026-02-01,1.00,X\n")
    assert [r.reference for r in preview.to_post] == ["BANK-2", "BANK-3"]
    assert [r.reference for r in preview.already_posted] == ["BANK-1"]
    assert [str(p) for p in preview.problems] == ["line 5: loan NOPE is not boarded"]
    assert payments() == 1


def test_import_payments_command(tmp_path, capsys):
    path = tmp_path / "payments.csv"
    path.write_bytes(GOOD)
    call_command("import_payments", str(path), "--dry-run")
    assert "3 payment(s) would post; 0 already posted; 0 bad row(s)" in capsys.readouterr().out
    assert payments() == 0
    call_command("import_payments", str(path))
    assert "posted 3 payment(s) (0 payoff(s)); 0 already posted" in capsys.readouterr().out
    call_command("import_payments", str(path))
    assert "posted 0 payment(s) (0 payoff(s)); 3 already posted" in capsys.readouterr().out
    path.write_bytes(payment_file(("L001", "2026-02-01", "abc", "Z")))
    with pytest.raises(CommandError, match="line 2: amount: 'abc' is not an amount in dollars"):
        call_command("import_payments", str(path))



ROWS = [("L001", "2026-02-01", "849.55", "C-1"), ("L002", "2026-02-01", "400.00", "C-2"),
        ("L001", "2026-02-02", "300.00", "C-3"), ("L003", "2026-02-02", "1849.55", "C-4"),
        ("L002", "2026-02-03", "449.55", "C-5")]


def _twin(loan: str) -> str:
    return "M" + loan[1:]


def _state(loans):
    """Each loan's position and its payments' splits, keyed by the loan's place in `loans`."""
    positions = [(p.principal_balance_cents, p.suspense_cents, p.next_due_date, p.stream_version)
                 for p in (LoanPosition.objects.get(loan_id=n) for n in loans)]
    splits = [[(e.event_type, e.payload["application"]) for e in Event.objects.filter(stream=f"loan:{n}")
               .exclude(event_type="LoanBoarded").order_by("position")] for n in loans]
    return positions, splits


def test_a_file_posted_in_chunks_records_what_posting_one_payment_at_a_time_records(monkeypatch):
    """Chunks of two rows, a loan twice in the file: the same splits and positions as payment_post row by row."""
    from servicing.services import payment_files

    board(*[{"loan_number": _twin(n)} for n in ("L001", "L002", "L003")])
    monkeypatch.setattr(payment_files, "FILE_CHUNK", 2)
    chunks = payment_files._file_chunks(payment_file_preview(raw=payment_file(*ROWS)).to_post)
    assert [[r.reference for r in chunk] for chunk in chunks] == [["C-1", "C-2"], ["C-3", "C-4"], ["C-5"]]
    result = payment_file_import(raw=payment_file(*ROWS), acting_user=TESTS)
    assert [r.reference for r in result.posted] == ["C-1", "C-2", "C-3", "C-4", "C-5"]
    for loan, day, amount, reference in ROWS:
        payment_post(loan_number=_twin(loan), amount_cents=int(amount.replace(".", "")),
                     received_on=date.fromisoformat(day), reference=f"T{reference}", acting_user=TESTS)
    originals = ["L001", "L002", "L003"]
    assert _state(originals) == _state([_twin(n) for n in originals])
    assert verify().ok
    # The projections folded the typed fact each event was written from, not its payload decoded again:
    # the same fact as the stored payload reads back.
    stored = {e.position: e for e in recorded_events(Event.objects.filter(position__in=[
        r.event.position for r in result.posted]))}
    assert all(r.event.source_fact is not None and loan_fact(stored[r.event.position]) == r.event.source_fact
               and stored[r.event.position].source_fact is None for r in result.posted)


def test_a_chunk_another_writer_moved_posts_row_by_row_and_still_all_of_it(monkeypatch):
    """Another payment lands on a loan between the chunk's read and its append: the chunk falls back."""
    from servicing.services import payment_files

    computed = payment_files._work_out_payment
    interloped = []

    def computed_then_interloper(position, request):
        result = computed(position, request)
        if not interloped:  # a real write to L002, moving its version past what the chunk read
            interloped.append("TELLER-1")
            payment_post(loan_number="L002", amount_cents=10_000, received_on=date(2026, 2, 1), reference="TELLER-1",
                         acting_user=TESTS)
        return result

    row_by_row, fell_back = payment_files._post_rows, []
    monkeypatch.setattr(payment_files, "_work_out_payment", computed_then_interloper)
    monkeypatch.setattr(payment_files, "_post_rows", lambda *a: fell_back.append(1) or row_by_row(*a))
    result = payment_file_import(raw=GOOD, acting_user=TESTS)
    assert fell_back == [1]
    assert [r.reference for r in result.posted] == ["BANK-1", "BANK-2", "BANK-3"]
    l002 = LoanPosition.objects.get(loan_id="L002")
    assert l002.suspense_cents == 40_000 + 10_000  # both the teller's and the file's money, nothing lost
    assert payments() == 4 and verify().ok


def test_amounts_a_lenient_parser_took_are_refused_naming_line_and_column():
    """Regression: "599,55" was posted as 59,955.00 (commas deleted); "1,0,0.00" and "5.9955E+02" were taken."""
    raw = payment_file(
        ("L001", "2026-02-01", "849.55", "OK-1"),
        ("L001", "2026-02-01", '"599,55"', "B-1"),
        ("L002", "2026-02-01", '"1,0,0.00"', "B-2"),
        ("L003", "2026-02-01", "5.9955E+02", "B-3"),
        ("L003", "2026-02-01", '"1,234.50"', "OK-2"),  # correctly grouped thousands are fine
    )
    with pytest.raises(FileRejected) as rejected:
        payment_file_import(raw=raw, acting_user=TESTS)
    assert [str(p) for p in rejected.value.problems] == [
        "line 3: amount: '599,55' looks like a decimal comma; write dollars with a '.' before the cents and commas "
        "only between thousands, like 1,234.56",
        "line 4: amount: '1,0,0.00' is not an amount in dollars: commas must separate thousands (1,234,567.89), "
        "three digits after each",
        "line 5: amount: '5.9955E+02' is not an amount in dollars: write it in full, without an exponent",
    ]
    assert payments() == 0
    assert [r.amount_cents for r in payment_file_preview(raw=payment_file(
        ("L003", "2026-02-01", '"1,234.50"', "OK-2"))).to_post] == [123_450]


def test_import_payments_command_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_bytes(payment_file(("L001", "2026-02-01", '"599,55"', "Z")))
    with pytest.raises(CommandError, match=r"payments.csv: payment file rejected.*\n  line 2: amount: '599,55' looks "
                                           r"like a decimal comma"):
        call_command("import_payments", str(path))
    assert payments() == 0
