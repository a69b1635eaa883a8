"""Boarding loans from a tape: all or nothing, every bad row named, never twice."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import Event
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.errors import FileRejected
from servicing.models import Loan, LoanPosition
from tests.actors import TESTS
from tests.integration.servicing.tapes import SEED_ROW, board, seed_rows, tape

pytestmark = pytest.mark.django_db


def test_boarding_the_seed_tape_records_terms_position_and_ledger():
    result = board(*seed_rows(10))
    assert len(result.boarded) == 10 and result.already_boarded == []
    loan = Loan.objects.get(loan_number="L001")
    assert loan.payment_pi_cents == 59_955 and loan.note_rate == Decimal("6")
    position = LoanPosition.objects.get(loan_id="L001")
    assert position.principal_balance_cents == 10_000_000
    assert position.next_due_date == date(2026, 2, 1)
    assert position.escrow_monthly_cents == 25_000
    assert account_balance("loan:L001:principal") == 10_000_000
    boarded = Event.objects.get(stream="loan:L001")
    assert boarded.event_type == "LoanBoarded" and boarded.payload["note_rate"] == "6.0000"
    assert verify().ok


def test_rerunning_a_tape_boards_nothing_twice():
    board(*seed_rows(3))
    again = board(*seed_rows(4))
    assert again.boarded == ["L004"] and again.already_boarded == ["L001", "L002", "L003"]
    assert Event.objects.filter(event_type="LoanBoarded").count() == 4


def test_a_loan_boarded_before_on_other_terms_is_a_bad_row():
    board(SEED_ROW)
    with pytest.raises(FileRejected, match="line 2: loan L001 is already boarded on other terms"):
        board({**SEED_ROW, "note_rate": "6.5"})


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_boarded():
    rows = [
        {"loan_number": "G1"},
        {"loan_number": "B1", "original_balance": "-5.00"},
        {"loan_number": "B2", "note_rate": "six"},
        {"loan_number": "B3", "first_payment_date": "2026-13-01"},
        {"loan_number": "B4", "property_type": "castle"},
        {"loan_number": "G1"},
        {"loan_number": "B5", "current_balance": "200000.00"},
        {"loan_number": "B6", "original_balance": "100.001"},
        {"loan_number": "B7", "autopay": "maybe"},
    ]
    with pytest.raises(FileRejected) as rejected:
        board(*rows)
    reasons = [str(p) for p in rejected.value.problems]
    assert reasons == [
        "line 3: original_balance: '-5.00' is negative; the amount must be zero or more",
        "line 4: note_rate 'six' is not a percentage like 6.125",
        "line 5: first_payment_date '2026-13-01' is not an ISO date (YYYY-MM-DD)",
        "line 6: property_type 'castle' must be residential or commercial",
        "line 7: loan G1 is on the tape twice (also line 2)",
        "line 8: current_balance 200000.00 is above original_balance 100000.00",
        "line 9: original_balance: '100.001' has fractions of a cent",
        "line 10: autopay 'maybe' must be true or false",
    ]
    assert not Loan.objects.exists() and not Event.objects.exists()


def test_wrong_columns_and_bad_encoding_are_refused():
    with pytest.raises(FileRejected, match="line 1: missing columns autopay"):
        board_raw(tape(SEED_ROW, columns=[c for c in SEED_ROW if c != "autopay"]))
    with pytest.raises(FileRejected, match="not UTF-8"):
        board_raw(b"loan_number\n\xff\xfe\n")


def board_raw(raw):
    from servicing.services.boarding import tape_board

    return tape_board(raw=raw, boarded_on=date(2026, 1, 15), acting_user=TESTS)


def test_board_loans_command(tmp_path, capsys):
    path = tmp_path / "tape.csv"
    path.write_bytes(tape(*seed_rows(2)))
    call_command("board_loans", str(path), "--boarded-on", "2026-01-15")
    assert "boarded 2 loan(s); 0 already boarded" in capsys.readouterr().out
    call_command("board_loans", str(path))
    assert "boarded 0 loan(s); 2 already boarded" in capsys.readouterr().out
    path.write_bytes(tape({"loan_number": "X1", "term_months": "0"}))
    with pytest.raises(CommandError, match="line 2: term_months '0' must be a whole number"):
        call_command("board_loans", str(path))


def test_replay_rebuilds_positions_exactly():
    board(*seed_rows(5))
    from ledger.projections import differences

    assert differences() == []


def test_any_event_on_a_loan_stream_moves_the_position_version():
    """Services append at the position's version; an unhandled event type must not leave it stale."""
    from ledger.domain.records import NewEvent
    from ledger.services import append

    board(SEED_ROW)
    append(stream="loan:L001", expected_version=1,
           events=[NewEvent("BorrowerContacted", {"channel": "phone"}, date(2026, 2, 20))], acting_user=TESTS)
    assert LoanPosition.objects.get(loan_id="L001").stream_version == 2


def test_amounts_and_rates_a_lenient_parser_took_are_refused_naming_line_and_column(tmp_path):
    """Regression: commas were deleted ("599,55" read as 59,955.00), exponents taken ("6.125E0" as a rate)."""
    rows = [
        {"loan_number": "G1"},
        {"loan_number": "B1", "original_balance": "599,55"},
        {"loan_number": "B2", "current_balance": "1,0,0.00"},
        {"loan_number": "B3", "escrow_monthly": "5.9955E+02"},
        {"loan_number": "B4", "note_rate": "6.125E0"},
        {"loan_number": "B5", "servicing_fee_rate": "0.25001"},
        {"loan_number": "B6", "note_rate": "6.00000"},
        {"loan_number": "G2", "original_balance": "100,000.00", "note_rate": "6.1250"},
    ]
    with pytest.raises(FileRejected) as rejected:
        board(*rows)
    assert [str(p) for p in rejected.value.problems] == [
        "line 3: original_balance: '599,55' looks like a decimal comma; write dollars with a '.' before the cents "
        "and commas only between thousands, like 1,234.56",
        "line 4: current_balance: '1,0,0.00' is not an amount in dollars: commas must separate thousands "
        "(1,234,567.89), three digits after each",
        "line 5: escrow_monthly: '5.9955E+02' is not an amount in dollars: write it in full, without an exponent",
        "line 6: note_rate '6.125E0' is not a percentage like 6.125",
        "line 7: servicing_fee_rate '0.25001' has more than 4 decimals, the places servicing_fee_rate is kept with; "
        "it is refused rather than rounded",
        "line 8: note_rate '6.00000' has more than 4 decimals, the places note_rate is kept with; it is refused "
        "rather than rounded",
    ]
    assert not Loan.objects.exists() and not Event.objects.exists()
    path = tmp_path / "tape.csv"
    path.write_bytes(tape({**SEED_ROW, "original_balance": "599,55"}))
    with pytest.raises(CommandError, match=r"tape.csv: loan tape rejected.*\n  line 2: original_balance: '599,55' "
                                           r"looks like a decimal comma"):
        call_command("board_loans", str(path))
