"""Loan tapes for tests, written as the CSV a servicer would receive."""
from datetime import date

from servicing.services.boarding import tape_board
from servicing.domain.loan_tape import TAPE_COLUMNS
from tests.actors import TESTS

SEED_ROW = {
    "loan_number": "L001", "borrower_name": "Ada Borrower", "property_address": "1 Main St, Springfield",
    "property_type": "residential", "property_value": "125000.00", "original_balance": "100000.00",
    "current_balance": "", "note_rate": "6", "term_months": "360", "first_payment_date": "2026-02-01",
    "next_due_date": "", "servicing_fee_rate": "0.6", "escrow_monthly": "250.00", "autopay": "false",
}


def tape(*rows: dict, columns=TAPE_COLUMNS) -> bytes:
    lines = [",".join(columns)]
    for row in rows:
        full = {**SEED_ROW, **row}
        lines.append(",".join(f'"{full.get(c, "")}"' for c in columns))
    return ("\n".join(lines) + "\n").encode()


def seed_rows(count: int = 10, **changes) -> list[dict]:
    return [{"loan_number": f"L{i:03d}", **changes} for i in range(1, count + 1)]


def board(*rows: dict, boarded_on=date(2026, 1, 15)):
    return tape_board(raw=tape(*(rows or (SEED_ROW,))), boarded_on=boarded_on, acting_user=TESTS)
