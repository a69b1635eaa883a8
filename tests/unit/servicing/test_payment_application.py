"""Payment application: the order of application, suspense, several installments, and conservation."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from servicing.domain.amortization import level_payment_cents
from servicing.domain.money_position import MoneyPosition
from servicing.domain.payment_application import PaymentApplication, apply_payment, is_payoff
from servicing.domain.payoff_quotes import payoff_quote
from tests.unit.servicing.loans import INSTALLMENT, seed_loan





def conserved(application: PaymentApplication) -> bool:
    return (
        application.applied_cents + application.to_suspense_cents - application.from_suspense_cents
        == application.amount_cents
    )


def test_an_exact_installment_pays_interest_principal_and_escrow():
    application = apply_payment(position=seed_loan(), amount_cents=INSTALLMENT, received_on=date(2026, 2, 3))
    assert (application.interest_cents, application.principal_cents, application.escrow_cents) == (50_000, 9_955, 25_000)
    assert application.installments_paid == 1
    assert application.due_dates_paid == (date(2026, 2, 1),)
    assert (application.curtailment_cents, application.to_suspense_cents, application.from_suspense_cents) == (0, 0, 0)
    after = application.position_after
    assert after.principal_balance_cents == 9_990_045
    assert after.next_due_date == date(2026, 3, 1)
    assert after.escrow_balance_cents == 25_000
    assert conserved(application)


def test_a_partial_payment_waits_in_suspense_and_a_second_one_completes_the_installment():
    first = apply_payment(position=seed_loan(), amount_cents=50_000, received_on=date(2026, 2, 1))
    assert first.installments_paid == 0
    assert first.applied_cents == 0
    assert first.to_suspense_cents == 50_000
    assert first.position_after.suspense_cents == 50_000
    assert first.position_after.next_due_date == date(2026, 2, 1)

    second = apply_payment(position=first.position_after, amount_cents=34_955, received_on=date(2026, 2, 10))
    assert second.installments_paid == 1
    assert second.from_suspense_cents == 50_000
    assert second.to_suspense_cents == 0
    assert (second.interest_cents, second.principal_cents, second.escrow_cents) == (50_000, 9_955, 25_000)
    assert second.position_after.suspense_cents == 0
    assert conserved(first) and conserved(second)


def test_excess_after_a_full_installment_pays_late_charges_then_fees_then_curtails():
    position = seed_loan(late_charges_due_cents=2_998, fees_due_cents=1_500)
    application = apply_payment(position=position, amount_cents=INSTALLMENT + 10_000, received_on=date(2026, 1, 25))
    assert application.late_charges_cents == 2_998
    assert application.fees_cents == 1_500
    assert application.curtailment_cents == 10_000 - 2_998 - 1_500
    after = application.position_after
    assert (after.late_charges_due_cents, after.fees_due_cents) == (0, 0)
    assert after.principal_balance_cents == 10_000_000 - 9_955 - 5_502
    assert conserved(application)


def test_a_late_charge_larger_than_the_excess_is_paid_in_part():
    position = seed_loan(late_charges_due_cents=2_998, fees_due_cents=1_500)
    application = apply_payment(position=position, amount_cents=INSTALLMENT + 1_000, received_on=date(2026, 2, 1))
    assert (application.late_charges_cents, application.fees_cents, application.curtailment_cents) == (1_000, 0, 0)
    assert application.position_after.late_charges_due_cents == 1_998


def test_late_charges_never_come_out_of_an_incomplete_installment():
    position = seed_loan(late_charges_due_cents=2_998)
    application = apply_payment(position=position, amount_cents=INSTALLMENT - 1, received_on=date(2026, 2, 20))
    assert application.late_charges_cents == 0
    assert application.to_suspense_cents == INSTALLMENT - 1


def test_one_payment_brings_a_loan_two_months_behind_current():
    position = seed_loan(next_due_date=date(2026, 1, 1))
    application = apply_payment(position=position, amount_cents=2 * INSTALLMENT + 100, received_on=date(2026, 2, 5))
    assert application.installments_paid == 2
    assert application.due_dates_paid == (date(2026, 1, 1), date(2026, 2, 1))
    # The second installment's interest is on the balance after the first one's principal.
    assert application.interest_cents == 50_000 + 49_950
    assert application.principal_cents == 9_955 + 10_005
    assert application.escrow_cents == 50_000
    assert application.curtailment_cents == 100
    assert application.position_after.next_due_date == date(2026, 3, 1)
    assert conserved(application)


def test_money_left_on_a_loan_still_behind_waits_in_suspense_instead_of_curtailing():
    position = seed_loan(next_due_date=date(2026, 1, 1), late_charges_due_cents=2_998)
    application = apply_payment(position=position, amount_cents=INSTALLMENT + 40_000, received_on=date(2026, 2, 5))
    assert application.installments_paid == 1
    assert application.curtailment_cents == 0
    assert application.late_charges_cents == 0
    assert application.to_suspense_cents == 40_000
    assert application.position_after.next_due_date == date(2026, 2, 1)


def test_an_installment_not_yet_due_is_not_paid_ahead_beyond_the_next_one():
    # Paid on January 20: February's installment (the next) is paid; March's is not due, so the rest curtails.
    application = apply_payment(position=seed_loan(), amount_cents=2 * INSTALLMENT, received_on=date(2026, 1, 20))
    assert application.installments_paid == 1
    assert application.curtailment_cents == INSTALLMENT
    assert application.position_after.next_due_date == date(2026, 3, 1)


def test_principal_only_sends_everything_to_curtailment_and_leaves_suspense_alone():
    position = seed_loan(suspense_cents=1_234, late_charges_due_cents=2_998)
    application = apply_payment(
        position=position, amount_cents=500_000, received_on=date(2026, 1, 10), principal_only=True
    )
    assert application.curtailment_cents == 500_000
    assert application.installments_paid == 0
    assert application.late_charges_cents == 0
    after = application.position_after
    assert after.principal_balance_cents == 9_500_000
    assert after.suspense_cents == 1_234
    assert after.next_due_date == date(2026, 2, 1)
    assert conserved(application)


def test_principal_only_beyond_the_balance_keeps_the_excess_in_suspense():
    position = seed_loan(principal_balance_cents=10_000)
    application = apply_payment(
        position=position, amount_cents=15_000, received_on=date(2026, 1, 10), principal_only=True
    )
    assert application.curtailment_cents == 10_000
    assert application.to_suspense_cents == 5_000
    assert application.position_after.principal_balance_cents == 0
    assert conserved(application)


def test_the_final_installment_takes_only_the_remaining_principal():
    position = seed_loan(principal_balance_cents=30_000)
    application = apply_payment(position=position, amount_cents=30_150 + 25_000, received_on=date(2026, 2, 1))
    assert (application.interest_cents, application.principal_cents) == (150, 30_000)
    assert application.position_after.principal_balance_cents == 0
    assert application.installments_paid == 1
    assert application.to_suspense_cents == 0


def test_a_curtailment_is_capped_at_the_balance_and_the_rest_is_held():
    position = seed_loan(principal_balance_cents=100_000)
    application = apply_payment(position=position, amount_cents=200_000, received_on=date(2026, 2, 1))
    assert application.principal_cents + application.curtailment_cents == 100_000
    assert application.position_after.principal_balance_cents == 0
    assert application.to_suspense_cents == 200_000 - application.applied_cents
    assert conserved(application)


def test_a_paid_off_loan_takes_no_payment():
    with pytest.raises(ValueError, match="paid off"):
        apply_payment(position=seed_loan(principal_balance_cents=0), amount_cents=100, received_on=date(2026, 2, 1))


@pytest.mark.parametrize("amount", [0, -1, 100.0, Decimal("100"), True])
def test_impossible_amounts_are_refused(amount):
    with pytest.raises(ValueError, match="amount_cents"):
        apply_payment(position=seed_loan(), amount_cents=amount, received_on=date(2026, 2, 1))


@pytest.mark.parametrize(
    "changes",
    [
        {"principal_balance_cents": -1},
        {"suspense_cents": -5},
        {"escrow_balance_cents": -5},
        {"late_charges_due_cents": 1.5},
        {"note_rate": 6.0},
        {"note_rate": Decimal("-1")},
        {"payment_pi_cents": 49_999},  # below a month's interest
        {"next_due_date": "2026-02-01"},
    ],
)
def test_impossible_positions_are_refused(changes):
    with pytest.raises(ValueError):
        seed_loan(**changes)


def test_is_payoff_compares_the_money_with_the_payoff_quote_of_the_day():
    position = seed_loan(escrow_balance_cents=100_000)
    total = payoff_quote(position=position, as_of=date(2026, 1, 15)).total_cents
    assert is_payoff(position=position, amount_cents=total, received_on=date(2026, 1, 15))
    assert not is_payoff(position=position, amount_cents=total - 1, received_on=date(2026, 1, 15))
    assert not is_payoff(position=position, amount_cents=INSTALLMENT, received_on=date(2026, 1, 15))


@st.composite
def positions(draw) -> MoneyPosition:
    balance = draw(st.integers(min_value=1, max_value=10**9))
    rate = Decimal(draw(st.integers(min_value=0, max_value=12_000))).scaleb(-3)
    term = draw(st.integers(min_value=1, max_value=360))
    return MoneyPosition(
        principal_balance_cents=balance,
        note_rate=rate,
        payment_pi_cents=level_payment_cents(principal_cents=balance, note_rate=rate, term_months=term),
        escrow_monthly_cents=draw(st.integers(min_value=0, max_value=100_000)),
        next_due_date=date(2025, 1, 1) + relativedelta(months=draw(st.integers(min_value=0, max_value=24))),
        suspense_cents=draw(st.integers(min_value=0, max_value=50_000)),
        late_charges_due_cents=draw(st.integers(min_value=0, max_value=20_000)),
        fees_due_cents=draw(st.integers(min_value=0, max_value=20_000)),
        escrow_balance_cents=draw(st.integers(min_value=0, max_value=1_000_000)),
    )


@settings(max_examples=300, deadline=None)
@given(start=positions(), data=st.data())
def test_any_sequence_of_payments_conserves_cash_and_keeps_balances_whole(start, data):
    position = start
    received_on = date(2025, 1, 1) + timedelta(days=data.draw(st.integers(min_value=0, max_value=800)))
    cash = applied = 0
    for _ in range(data.draw(st.integers(min_value=1, max_value=12))):
        if position.principal_balance_cents == 0:
            break
        installment = position.payment_pi_cents + position.escrow_monthly_cents
        amount = data.draw(st.integers(min_value=1, max_value=3 * installment + 100))
        principal_only = data.draw(st.sampled_from([False] * 9 + [True]))  # borrower-directed now and then
        received_on += timedelta(days=data.draw(st.integers(min_value=0, max_value=45)))
        application = apply_payment(
            position=position, amount_cents=amount, received_on=received_on, principal_only=principal_only
        )
        after = application.position_after
        parts = (
            application.interest_cents, application.principal_cents, application.escrow_cents,
            application.late_charges_cents, application.fees_cents, application.curtailment_cents,
            application.to_suspense_cents, application.from_suspense_cents,
        )
        assert all(part >= 0 for part in parts)
        assert conserved(application)
        assert application.to_suspense_cents == 0 or application.from_suspense_cents == 0
        moved = application.to_suspense_cents - application.from_suspense_cents
        assert after.suspense_cents == position.suspense_cents + moved
        assert after.principal_balance_cents == (
            position.principal_balance_cents - application.principal_cents - application.curtailment_cents
        )
        assert after.escrow_balance_cents == position.escrow_balance_cents + application.escrow_cents
        assert after.late_charges_due_cents == position.late_charges_due_cents - application.late_charges_cents
        assert after.fees_due_cents == position.fees_due_cents - application.fees_cents
        assert after.next_due_date == position.next_due_date + relativedelta(months=application.installments_paid)
        assert min(after.principal_balance_cents, after.suspense_cents, after.late_charges_due_cents,
                   after.fees_due_cents, after.escrow_balance_cents) >= 0
        # More than one installment only when the later ones were already due.
        assert all(due <= received_on for due in application.due_dates_paid[1:])
        cash += amount
        applied += application.applied_cents
        position = after
    assert cash == applied + position.suspense_cents - start.suspense_cents
