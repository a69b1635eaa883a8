"""Business time on loans: no fact dated after today or before boarding, no as-of in the future, and no
installment (nor late charge) after maturity. Each refusal names the loan and the date, and writes nothing."""
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.business_time import BusinessDateError, business_day
from ledger.models import Event
from servicing.errors import DateRefused, ServicingError
from servicing.models import LoanPosition
from servicing.services.boarding import tape_board
from servicing.services.default import foreclosure_start, loan_charge_off, loan_liquidate
from servicing.services.delinquency import loan_age, loans_age
from servicing.services.escrow import escrow_disburse_due, escrow_item_add
from tests.actors import TESTS
from tests.integration.servicing.tapes import board, tape

pytestmark = pytest.mark.django_db
L = "L001"
TODAY = date(2026, 3, 1)
TOMORROW = date(2026, 3, 2)


def events() -> int:
    return Event.objects.count()


@pytest.mark.parametrize("action", [
    lambda on: foreclosure_start(loan_number=L, started_on=on, acting_user=TESTS),
    lambda on: loan_charge_off(loan_number=L, charged_off_on=on, acting_user=TESTS),
    lambda on: loan_liquidate(loan_number=L, liquidated_on=on, gross_proceeds_cents=1, costs_cents=0,
                              acting_user=TESTS),
    lambda on: escrow_item_add(loan_number=L, kind="property_tax", payee="County", annual_amount_cents=1200_00,
                               due_dates=["2026-04-01"], added_on=on, acting_user=TESTS),
], ids=["foreclosure", "charge-off", "liquidation", "escrow item"])
def test_a_loan_fact_dated_tomorrow_or_before_boarding_is_refused_and_writes_nothing(action):
    board()
    before = events()
    with business_day(TODAY):
        with pytest.raises(DateRefused, match=r"^loan L001: .* 2026-03-02 is in the future \(today is 2026-03-01\)$"):
            action(TOMORROW)
        with pytest.raises(DateRefused, match=r"^loan L001: .* 2026-01-14: is before the loan was boarded on 2026-01-15$"):
            action(date(2026, 1, 14))
    assert events() == before


def test_boarding_in_the_future_is_refused():
    with business_day(TODAY):
        with pytest.raises(DateRefused, match=r"^boarding date 2026-03-02 is in the future"):
            tape_board(raw=tape(), boarded_on=TOMORROW, acting_user=TESTS)
    assert events() == 0


def test_aging_and_escrow_disbursement_refuse_a_future_as_of():
    board()
    before = events()
    with business_day(TODAY):
        with pytest.raises(BusinessDateError, match=r"^aging as of 2027-03-01 is in the future"):
            loans_age(as_of=date(2027, 3, 1), acting_user=TESTS)
        with pytest.raises(BusinessDateError, match=r"^aging of loan L001 as of 2027-03-01 is in the future"):
            loan_age(loan_number=L, as_of=date(2027, 3, 1), acting_user=TESTS)
        with pytest.raises(BusinessDateError, match=r"^escrow disbursement as of 2027-03-01 is in the future"):
            escrow_disburse_due(as_of=date(2027, 3, 1), acting_user=TESTS)
    assert events() == before


@pytest.mark.parametrize("command,option", [
    ("age_loans", "--as-of"), ("disburse_escrow", "--as-of"), ("board_loans", "--boarded-on"),
])
def test_commands_refuse_a_future_date_with_a_clear_error(command, option, tmp_path):
    board()
    before = events()
    path = tmp_path / "tape.csv"
    path.write_bytes(tape({"loan_number": "L002"}))
    args = [str(path)] if command == "board_loans" else []
    with business_day(TODAY):
        with pytest.raises(CommandError, match=r"2026-03-02 is in the future \(today is 2026-03-01\)"):
            call_command(command, *args, option, "2026-03-02", stdout=StringIO())
    assert events() == before


def test_tasks_refuse_a_future_as_of():
    from servicing.tasks.delinquency import age_loans_task
    from servicing.tasks.escrow import disburse_escrow_task

    board()
    before = events()
    with business_day(TODAY):
        for task in (age_loans_task, disburse_escrow_task):
            with pytest.raises(BusinessDateError, match="as_of 2026-03-02 is in the future"):
                task("2026-03-02")
    assert events() == before


def test_no_late_charge_for_an_installment_after_maturity():
    # Three installments, due 1 February, 1 March and 1 April 2026: the loan matures on 1 April.
    board({"term_months": "3"})
    with business_day(date(2026, 12, 1)):
        recorded = loan_age(loan_number=L, as_of=date(2026, 12, 1), acting_user=TESTS)
    charged = sorted(e.payload["due_date"] for e in recorded if e.event_type == "LateChargeAssessed")
    assert charged == ["2026-02-01", "2026-03-01", "2026-04-01"]
    with business_day(date(2027, 6, 1)):
        assert [e for e in loan_age(loan_number=L, as_of=date(2027, 6, 1), acting_user=TESTS)
                if e.event_type == "LateChargeAssessed"] == []


def test_a_datetime_is_not_a_date():
    from datetime import datetime

    board()
    with pytest.raises(ServicingError, match="must be a date"):
        foreclosure_start(loan_number=L, started_on=datetime(2026, 2, 1, 12, 0), acting_user=TESTS)
    assert LoanPosition.objects.get(loan_id=L).status == "active"
