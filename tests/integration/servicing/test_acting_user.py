"""A service told that nobody acts (None) records nothing: the append refuses it and the service's work rolls back."""
from datetime import date

import pytest

from ledger.actors import AGING, ActorRequired
from ledger.models import Event
from servicing.models import Loan, LoanPosition
from servicing.services.boarding import tape_board
from servicing.services.payments import payment_post
from servicing.services.delinquency import loans_age
from servicing.services.escrow import escrow_item_add
from tests.integration.servicing.tapes import SEED_ROW, board, tape

pytestmark = pytest.mark.django_db

NOBODY = "no acting_user was given \\(None\\)"


def test_a_tape_boarded_by_nobody_boards_no_loan():
    with pytest.raises(ActorRequired, match=NOBODY):
        tape_board(raw=tape(SEED_ROW), boarded_on=date(2026, 1, 15), acting_user=None)
    assert (Event.objects.count(), Loan.objects.count(), LoanPosition.objects.count()) == (0, 0, 0)


def test_a_payment_posted_by_nobody_is_not_recorded():
    board()
    position = LoanPosition.objects.values().get(loan_id="L001")
    with pytest.raises(ActorRequired, match=NOBODY):
        payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 1), reference="BANK-1",
                     acting_user=None)
    assert Event.objects.count() == 1  # the boarding only
    assert LoanPosition.objects.values().get(loan_id="L001") == position


def test_an_escrow_item_added_by_nobody_leaves_no_row():
    board()
    with pytest.raises(ActorRequired, match=NOBODY):
        escrow_item_add(loan_number="L001", kind="property_tax", payee="County", annual_amount_cents=120_000,
                        due_dates=["2026-09-01"], added_on=date(2026, 1, 20), acting_user=None)
    assert Event.objects.count() == 1
    assert not Loan.objects.get(loan_number="L001").escrow_items.exists()


def test_the_aging_job_records_as_its_named_system_actor():
    board()
    loans_age(as_of=date(2026, 3, 20), acting_user=AGING)  # February's installment unpaid: delinquent
    aged = Event.objects.filter(stream="loan:L001").exclude(event_type="LoanBoarded")
    assert aged.exists() and set(aged.values_list("acting_user_id", flat=True)) == {None}


def test_aging_by_nobody_is_refused_and_ages_nothing():
    board()
    with pytest.raises(ActorRequired, match=NOBODY):
        loans_age(as_of=date(2026, 3, 20), acting_user=None)
    assert Event.objects.count() == 1
