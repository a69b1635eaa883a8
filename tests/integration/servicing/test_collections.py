"""Posting payments: the split, suspense, curtailment, refusals, returned payments (NSF), the command."""
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from ledger import business_time
from ledger.models import Event
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.domain import accounts
from servicing.models import LoanPosition
from servicing.domain.payment_application import apply_payment
from servicing.events import PaymentPosted
from servicing.projections import COLLECTION_KEYS
from servicing.services.loan_events import folded
from servicing.services.payment_requests import DuplicateReference, PaymentRefused, PaymentRequest
from servicing.services.payment_returns import UnknownPayment
from servicing.services.payments import _payment_event, payment_post
from servicing.services.payoff import money_position
from servicing.errors import LoanClosed, UnknownLoan
from tests.actors import TESTS, payment_return
from tests.integration.servicing.tapes import SEED_ROW, board

pytestmark = pytest.mark.django_db
FEB1 = date(2026, 2, 1)
INSTALLMENT = 84_955  # 599.55 P&I + 250.00 escrow


@pytest.fixture
def seed_loan():
    board(SEED_ROW)
    return "L001"


def pay(amount_cents, reference, received_on=FEB1, loan="L001", **kw):
    return payment_post(loan_number=loan, amount_cents=amount_cents, received_on=received_on, reference=reference,
                        acting_user=TESTS, **kw)


def position(loan="L001"):
    return LoanPosition.objects.get(loan_id=loan)


def test_a_full_installment_pays_interest_principal_and_escrow(seed_loan):
    result = pay(INSTALLMENT, "B1")
    parts = result.parts
    assert (parts["interest_cents"], parts["principal_cents"], parts["escrow_cents"]) == (50_000, 9_955, 25_000)
    assert parts["curtailment_cents"] == parts["to_suspense_cents"] == 0
    assert result.event.event_type == "PaymentPosted" and result.event.idempotency_key == "payment:B1"
    assert result.event.payload["collections"] == {
        "interest_cents": 50_000, "scheduled_principal_cents": 9_955, "curtailment_cents": 0,
        "payoff_principal_cents": 0, "liquidation_principal_cents": 0, "realized_loss_cents": 0,
    }
    p = position()
    assert p.principal_balance_cents == 9_990_045 and p.next_due_date == date(2026, 3, 1)
    assert p.escrow_balance_cents == 25_000 and p.suspense_cents == 0 and p.last_payment_date == FEB1
    assert account_balance(accounts.CUSTODIAL_CASH) == INSTALLMENT
    assert account_balance(accounts.interest("L001")) == -50_000
    assert account_balance(accounts.principal("L001")) == 9_990_045
    assert account_balance(accounts.escrow("L001")) == -25_000
    fact = PaymentPosted.from_payload(result.event.payload)
    assert p.stream_version == 2 and fact.application.next_due_date_after == date(2026, 3, 1)
    assert fact.application.next_due_date_before == FEB1 and "position_after" not in result.event.payload
    assert verify().ok


def test_two_partial_payments_complete_the_installment_through_suspense(seed_loan):
    first = pay(40_000, "P1")
    assert first.parts["to_suspense_cents"] == 40_000 and first.parts["installments_paid"] == 0
    assert position().suspense_cents == 40_000 and position().next_due_date == FEB1
    assert account_balance(accounts.suspense("L001")) == -40_000
    assert first.event.payload["collections"]["interest_cents"] == 0
    second = pay(44_955, "P2", received_on=date(2026, 2, 3))
    assert second.parts["from_suspense_cents"] == 40_000 and second.parts["installments_paid"] == 1
    assert (second.parts["interest_cents"], second.parts["principal_cents"]) == (50_000, 9_955)
    p = position()
    assert p.suspense_cents == 0 and p.next_due_date == date(2026, 3, 1) and p.principal_balance_cents == 9_990_045
    assert account_balance(accounts.suspense("L001")) == 0
    assert verify().ok


def test_money_above_the_installment_curtails_principal(seed_loan):
    result = pay(INSTALLMENT + 100_000, "C1")
    assert result.parts["curtailment_cents"] == 100_000
    assert result.event.payload["collections"]["curtailment_cents"] == 100_000
    assert position().principal_balance_cents == 10_000_000 - 9_955 - 100_000
    assert account_balance(accounts.principal("L001")) == 9_890_045


def test_a_principal_only_payment_curtails_and_leaves_the_installment_due(seed_loan):
    result = pay(50_000, "PO1", principal_only=True)
    assert result.parts["curtailment_cents"] == 50_000 and result.parts["interest_cents"] == 0
    assert position().next_due_date == FEB1 and position().principal_balance_cents == 9_950_000


def test_the_same_reference_posts_once(seed_loan):
    first = pay(INSTALLMENT, "R1")
    again = pay(INSTALLMENT, "R1")
    assert again.already_posted and again.event.position == first.event.position
    assert Event.objects.filter(event_type="PaymentPosted").count() == 1
    assert position().principal_balance_cents == 9_990_045


@pytest.mark.parametrize("call, error, message", [
    (dict(loan="NOPE"), UnknownLoan, "loan NOPE is not boarded"),
    (dict(amount_cents=-500), PaymentRefused, "loan L001: a payment's amount_cents -500 must be integer cents above zero"),
    (dict(amount_cents=0), PaymentRefused, "loan L001: a payment's amount_cents 0 must be integer cents above zero"),
    (dict(reference="  "), PaymentRefused, "loan L001: the reference is empty"),
    (dict(received_on=date(2026, 1, 1)), PaymentRefused, "before the loan was boarded on 2026-01-15"),
])
def test_bad_input_is_refused_with_its_reason_and_nothing_written(seed_loan, call, error, message):
    before = Event.objects.count()
    args = {"amount_cents": INSTALLMENT, "reference": "X1", **call}
    with pytest.raises(error) as refused:
        pay(**args)
    assert message in str(refused.value)
    assert Event.objects.count() == before and position().stream_version == 1


def test_a_future_date_and_a_float_amount_are_refused(seed_loan):
    tomorrow = business_time.today() + timedelta(days=1)
    with pytest.raises(PaymentRefused, match=re.escape(f"loan L001: payment received {tomorrow.isoformat()} "
                                                       "is in the future")):
        pay(INSTALLMENT, "F1", received_on=tomorrow)
    with pytest.raises(PaymentRefused, match="integer cents"):
        pay(849.55, "F2")
    assert Event.objects.count() == 1


def test_a_reused_reference_with_other_content_is_refused_naming_it(seed_loan):
    pay(INSTALLMENT, "DUP")
    with pytest.raises(DuplicateReference, match=r"reference DUP was already used for 849.55 to loan L001 "
                                                 r"received on 2026-02-01 .* this request is 900.00"):
        pay(90_000, "DUP")
    assert Event.objects.count() == 2


def test_a_paid_off_loan_takes_no_more_payments(seed_loan):
    pay(20_000_000, "OFF")
    with pytest.raises(LoanClosed, match="loan L001 is paid off; it takes no more payments"):
        pay(INSTALLMENT, "AFTER", received_on=date(2026, 2, 2))
    assert not Event.objects.filter(idempotency_key="payment:AFTER").exists()


def test_a_payment_that_would_clear_principal_but_not_interest_is_refused(seed_loan):
    # Received mid-month: a month's interest is due, but principal only covers the principal.
    with pytest.raises(PaymentRefused, match=r"would clear the principal but is .* short of the payoff"):
        pay(10_000_000, "ALL", received_on=date(2026, 1, 20), principal_only=True)
    assert Event.objects.count() == 1


def test_the_escrow_part_repays_an_escrow_advance_first(seed_loan):
    stored = position()
    stored.escrow_advance_cents = 10_000  # as if escrow had advanced a tax bill of 100.00
    app = apply_payment(position=money_position(stored), amount_cents=INSTALLMENT, received_on=FEB1)
    event = _payment_event(stored, app, PaymentRequest(loan_number="L001", reference="E1", amount_cents=INSTALLMENT,
                                                       received_on=FEB1))
    lines = dict((p.account, p.amount_cents) for p in event.postings)
    assert lines[accounts.escrow_advance("L001")] == -10_000 and lines[accounts.escrow("L001")] == -15_000
    assert sum(lines.values()) == 0
    after = folded(stored, PaymentPosted.from_payload(event.payload))
    assert after.escrow_advance_cents == 0 and after.escrow_balance_cents == 15_000


# --- Returned payments -----------------------------------------------------------------------------------


def test_a_returned_payment_restores_the_position_and_charges_the_fee(seed_loan):
    original = pay(INSTALLMENT, "NSF1")
    result = payment_return(loan_number="L001", reference="NSF1", returned_on=date(2026, 2, 5), reason="NSF",
                            fee_cents=2_500)
    event = result.event
    assert event.event_type == "PaymentReturned" and event.idempotency_key == "return:NSF1"
    negated = sorted((p.account, -p.amount_cents) for p in original.event.postings)
    fee_lines = [(accounts.fees("L001"), 2_500), (accounts.FEE_INCOME, -2_500)]
    assert sorted((p.account, p.amount_cents) for p in event.postings) == sorted(negated + fee_lines)
    assert event.payload["collections"] == {k: -v for k, v in original.event.payload["collections"].items()}
    p = position()
    assert (p.principal_balance_cents, p.next_due_date, p.escrow_balance_cents) == (10_000_000, FEB1, 0)
    assert p.fees_due_cents == 2_500 and p.last_payment_date is None
    assert account_balance(accounts.CUSTODIAL_CASH) == 0 and account_balance(accounts.interest("L001")) == 0
    assert account_balance(accounts.fees("L001")) == 2_500
    assert verify().ok


@override_settings(SERVICING_NSF_FEE_CENTS=1_500)
def test_the_returned_payment_fee_defaults_to_the_setting(seed_loan):
    pay(INSTALLMENT, "NSF2")
    result = payment_return(loan_number="L001", reference="NSF2", returned_on=date(2026, 2, 5), reason="NSF")
    assert result.fee_cents == 1_500 and position().fees_due_cents == 1_500


def test_a_return_refuses_unknown_twice_returned_and_payoff_references(seed_loan):
    pay(INSTALLMENT, "N1")
    with pytest.raises(UnknownPayment, match="loan L001: no payment with reference NOPE was posted to it"):
        payment_return(loan_number="L001", reference="NOPE", returned_on=date(2026, 2, 5), reason="NSF")
    payment_return(loan_number="L001", reference="N1", returned_on=date(2026, 2, 5), reason="NSF", fee_cents=0)
    count = Event.objects.count()
    with pytest.raises(PaymentRefused, match="loan L001: payment N1 was already returned on 2026-02-05"):
        payment_return(loan_number="L001", reference="N1", returned_on=date(2026, 2, 6), reason="NSF")
    pay(20_000_000, "PAYOFF", received_on=date(2026, 2, 10))
    with pytest.raises(PaymentRefused, match="payment PAYOFF paid the loan off; returning a payoff needs a manual"):
        payment_return(loan_number="L001", reference="PAYOFF", returned_on=date(2026, 2, 12), reason="NSF")
    assert Event.objects.count() == count + 2  # the payoff and its refund, nothing from the refusals


def test_returning_an_earlier_payment_reverses_only_its_deltas(seed_loan):
    pay(INSTALLMENT, "M1")
    pay(INSTALLMENT, "M2", received_on=date(2026, 3, 1))
    payment_return(loan_number="L001", reference="M1", returned_on=date(2026, 3, 3), reason="NSF", fee_cents=0)
    p = position()
    # M2's installment stands (computed as March's: interest 499.50, principal 100.05), so one installment
    # is paid in all and March 1 is next due; M1's 99.55 of principal is owed again.
    assert p.principal_balance_cents == 10_000_000 - 10_005 and p.next_due_date == date(2026, 3, 1)
    assert p.escrow_balance_cents == 25_000 and p.last_payment_date == date(2026, 3, 1)
    assert verify().ok


def test_a_return_whose_money_was_used_later_is_refused_until_the_later_one_is_returned(seed_loan):
    pay(40_000, "S1")
    pay(44_955, "S2", received_on=date(2026, 2, 3))
    with pytest.raises(PaymentRefused, match=r"payment S1 cannot be returned on its own: .*suspense_cents"):
        payment_return(loan_number="L001", reference="S1", returned_on=date(2026, 2, 5), reason="NSF")
    payment_return(loan_number="L001", reference="S2", returned_on=date(2026, 2, 5), reason="NSF", fee_cents=0)
    payment_return(loan_number="L001", reference="S1", returned_on=date(2026, 2, 5), reason="NSF", fee_cents=0)
    p = position()
    assert (p.principal_balance_cents, p.suspense_cents, p.next_due_date) == (10_000_000, 0, FEB1)
    assert account_balance(accounts.CUSTODIAL_CASH) == 0
    assert verify().ok


# --- The command -----------------------------------------------------------------------------------------


def test_post_payment_command(seed_loan, capsys):
    call_command("post_payment", "--loan", "L001", "--amount", "849.55", "--received-on", "2026-02-01",
                 "--reference", "CMD1")
    out = capsys.readouterr().out
    assert "PaymentPosted on loan L001" in out and "interest 500.00" in out and "principal 99.55" in out
    call_command("post_payment", "--loan", "L001", "--amount", "849.55", "--received-on", "2026-02-01",
                 "--reference", "CMD1")
    assert "already posted" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--amount: '-1.00' is negative"):
        call_command("post_payment", "--loan", "L001", "--amount", "-1.00", "--received-on", "2026-02-01",
                     "--reference", "CMD2")
    with pytest.raises(CommandError, match="fractions of a cent"):
        call_command("post_payment", "--loan", "L001", "--amount", "1.001", "--received-on", "2026-02-01",
                     "--reference", "CMD3")
    # Regression: "599,55" was posted as 59,955.00, "5.9955E+02" as 599.55.
    with pytest.raises(CommandError, match="^--amount: '599,55' looks like a decimal comma"):
        call_command("post_payment", "--loan", "L001", "--amount", "599,55", "--received-on", "2026-02-01",
                     "--reference", "CMD4")
    with pytest.raises(CommandError, match="^--amount: '5.9955E\\+02' is not an amount in dollars: write it in full"):
        call_command("post_payment", "--loan", "L001", "--amount", "5.9955E+02", "--received-on", "2026-02-01",
                     "--reference", "CMD5")


def test_every_collections_event_carries_all_six_collection_keys(seed_loan):
    pay(40_000, "K1")
    pay(20_000_000, "K2", received_on=date(2026, 2, 10))
    for event in Event.objects.exclude(event_type="LoanBoarded"):
        assert set(event.payload["collections"]) == set(COLLECTION_KEYS)
        assert all(type(v) is int for v in event.payload["collections"].values())
