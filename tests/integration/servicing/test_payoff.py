"""Payoffs: the quote, paying it exactly, overpaying with the excess refunded, and the command."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import Event
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.domain import accounts
from servicing.errors import LoanClosed, UnknownLoan
from servicing.models import LoanPosition
from servicing.services.payments import payment_post
from servicing.services.payoff import payoff_quote_get
from tests.actors import TESTS
from tests.integration.servicing.tapes import SEED_ROW, board

pytestmark = pytest.mark.django_db
FEB15 = date(2026, 2, 15)


@pytest.fixture(autouse=True)
def seed_loan():
    board(SEED_ROW)


def test_the_quote_itemizes_principal_and_accrued_interest():
    quote = payoff_quote_get(loan_number="L001", as_of=FEB15)
    # Interest from January 1 (paid in arrears with the February installment) to February 15: 44 days on 30/360.
    assert (quote.accrual_start, quote.interest_days) == (date(2026, 1, 1), 44)
    assert quote.principal_cents == 10_000_000 and quote.interest_cents == 73_333
    assert quote.total_cents == 10_073_333
    assert quote.per_diem_interest.quantize(Decimal("0.0001")) == Decimal("1666.6667")


def test_the_quote_credits_escrow_held():
    payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 1), reference="I1",
                 acting_user=TESTS)
    quote = payoff_quote_get(loan_number="L001", as_of=date(2026, 2, 20))
    assert (quote.principal_cents, quote.interest_days, quote.interest_cents) == (9_990_045, 19, 31_635)
    assert quote.escrow_refund_cents == 25_000 and quote.total_cents == 9_996_680


def test_paying_the_quote_pays_the_loan_off():
    result = payment_post(loan_number="L001", amount_cents=10_073_333, received_on=FEB15, reference="PO",
                          acting_user=TESTS)
    assert result.paid_off and result.refund_event is None
    payload = result.event.payload
    assert payload["collections"]["payoff_principal_cents"] == 10_000_000
    assert payload["collections"]["interest_cents"] == 73_333
    assert payload["collections"]["scheduled_principal_cents"] == payload["collections"]["curtailment_cents"] == 0
    position = LoanPosition.objects.get(loan_id="L001")
    assert position.status == "paid_off" and position.principal_balance_cents == 0
    assert position.last_payment_date == FEB15
    assert account_balance(accounts.principal("L001")) == 0
    assert account_balance(accounts.interest("L001")) == -73_333
    assert account_balance(accounts.CUSTODIAL_CASH) == 10_073_333
    assert verify().ok


def test_an_overpayment_is_a_payoff_and_the_excess_is_refunded_not_swallowed():
    result = payment_post(loan_number="L001", amount_cents=10_100_000, received_on=FEB15, reference="OVER",
                          acting_user=TESTS)
    assert result.paid_off and result.settlement.refund_to_borrower_cents == 26_667
    refund = result.refund_event
    assert refund.event_type == "BorrowerRefundPaid" and refund.payload["refund_cents"] == 26_667
    lines = {p.account: p.amount_cents for p in result.event.postings}
    assert lines[accounts.borrower_refund("L001")] == -26_667
    assert sorted((p.account, p.amount_cents) for p in refund.postings) == sorted(
        [(accounts.borrower_refund("L001"), 26_667), (accounts.CUSTODIAL_CASH, -26_667)])
    assert account_balance(accounts.borrower_refund("L001")) == 0
    assert account_balance(accounts.CUSTODIAL_CASH) == 10_073_333
    assert verify().ok
    again = payment_post(loan_number="L001", amount_cents=10_100_000, received_on=FEB15, reference="OVER",
                         acting_user=TESTS)
    assert again.already_posted and again.refund_event.position == refund.position
    assert Event.objects.count() == 3


def test_escrow_and_suspense_are_applied_to_the_payoff():
    payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 1), reference="I1",
                 acting_user=TESTS)
    payment_post(loan_number="L001", amount_cents=10_000, received_on=date(2026, 2, 2), reference="I2",
                 acting_user=TESTS)
    quote = payoff_quote_get(loan_number="L001", as_of=date(2026, 2, 20))
    assert quote.suspense_credit_cents == 10_000 and quote.total_cents == 9_996_680 - 10_000
    result = payment_post(loan_number="L001", amount_cents=quote.total_cents, received_on=date(2026, 2, 20),
                          reference="PO", acting_user=TESTS)
    assert result.paid_off and result.refund_event is None
    for account in (accounts.principal("L001"), accounts.escrow("L001"), accounts.suspense("L001")):
        assert account_balance(account) == 0
    assert verify().ok


def test_a_quote_for_an_unknown_or_closed_loan_is_refused():
    with pytest.raises(UnknownLoan, match="loan NOPE is not boarded"):
        payoff_quote_get(loan_number="NOPE", as_of=FEB15)
    payment_post(loan_number="L001", amount_cents=10_073_333, received_on=FEB15, reference="PO", acting_user=TESTS)
    with pytest.raises(LoanClosed, match="loan L001 is paid off"):
        payoff_quote_get(loan_number="L001", as_of=FEB15)


def test_payoff_quote_command_prints_the_lines_in_dollars(capsys):
    call_command("payoff_quote", "L001", "--as-of", "2026-02-15")
    out = capsys.readouterr().out
    assert "Payoff quote for loan L001 good on 2026-02-15" in out
    assert "100,000.00" in out and "733.33" in out and "44 days from 2026-01-01" in out
    assert "total to pay off" in out and "100,733.33" in out
    with pytest.raises(CommandError, match="loan NOPE is not boarded"):
        call_command("payoff_quote", "NOPE", "--as-of", "2026-02-15")


def test_an_escrow_advance_is_repaid_by_installments_and_cleared_by_the_payoff(capsys):
    from servicing.services.escrow import escrow_item_add, loan_escrow_disburse_due

    escrow_item_add(loan_number="L001", kind="property_tax", payee="Springfield County", annual_amount_cents=120_000,
                    due_dates=["2026-02-10"], added_on=date(2026, 1, 20), acting_user=TESTS)
    loan_escrow_disburse_due(loan_number="L001", as_of=date(2026, 2, 10),
                             acting_user=TESTS)  # nothing in escrow: all advanced
    assert LoanPosition.objects.get(loan_id="L001").escrow_advance_cents == 120_000
    paid = payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 12), reference="I1",
                        acting_user=TESTS)
    assert paid.parts["escrow_advance_repaid_cents"] == 25_000 and paid.parts["escrow_deposit_cents"] == 0
    position = LoanPosition.objects.get(loan_id="L001")
    assert (position.escrow_advance_cents, position.escrow_balance_cents) == (95_000, 0)
    assert account_balance(accounts.escrow_advance("L001")) == 95_000
    call_command("payoff_quote", "L001", "--as-of", "2026-02-20")
    out = capsys.readouterr().out
    assert "escrow advanced by the servicer" in out and "950.00" in out and "101,166.80" in out
    quote = payoff_quote_get(loan_number="L001", as_of=date(2026, 2, 20))
    assert quote.total_cents == 9_990_045 + 31_635 + 95_000  # principal, 19 days' interest, the advance
    result = payment_post(loan_number="L001", amount_cents=quote.total_cents, received_on=date(2026, 2, 20),
                          reference="PO", acting_user=TESTS)
    assert result.paid_off and result.event.payload["payoff"]["escrow_advance_cents"] == 95_000
    for account in (accounts.principal("L001"), accounts.escrow("L001"), accounts.escrow_advance("L001")):
        assert account_balance(account) == 0
    assert verify().ok
