"""Property: any sequence of payments and returns keeps the money whole and the read models replayable."""
from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.models import Event
from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.domain import accounts
from servicing.errors import ServicingError
from servicing.models import LoanPosition
from servicing.services.payments import payment_post
from tests.actors import payment_return, TESTS
from tests.integration.servicing.tapes import SEED_ROW, board

POSITION_AMOUNTS = ("principal_balance_cents", "suspense_cents", "escrow_balance_cents", "escrow_advance_cents",
                    "late_charges_due_cents", "fees_due_cents")
amounts = st.one_of(
    st.sampled_from([84_955, 40_000, 44_955, 169_910, 184_955]),  # installments, partials, two, curtailment
    st.integers(1, 300_000),
    st.integers(9_000_000, 10_200_000),  # around the payoff
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), amounts, st.integers(0, 20), st.booleans()),
        st.tuples(st.just("return"), st.integers(0, 30), st.integers(0, 3), st.integers(0, 5_000)),
    ),
    min_size=1, max_size=8,
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_random_payment_sequences_keep_money_whole_and_replayable(sequence):
    with transaction.atomic():
        board(SEED_ROW)
        day, posted, cash = date(2026, 2, 1), [], 0
        for n, step in enumerate(sequence):
            count = Event.objects.count()
            try:
                if step[0] == "pay":
                    _, amount, days, principal_only = step
                    day += timedelta(days=days)
                    result = payment_post(loan_number="L001", amount_cents=amount, received_on=day,
                                          reference=f"P{n}", principal_only=principal_only and amount < 50_000,
                                          acting_user=TESTS)
                    event(result.event.event_type)
                    _assert_parts_sum_to_cash(result.event.payload, amount)
                    cash += amount - (result.refund_event.payload["refund_cents"] if result.refund_event else 0)
                    posted.append((f"P{n}", amount))
                elif posted:
                    _, pick, days, fee = step
                    reference, amount = posted[pick % len(posted)]
                    day += timedelta(days=days)
                    payment_return(loan_number="L001", reference=reference, returned_on=day, reason="NSF",
                                   fee_cents=fee)
                    cash -= amount
                    event("PaymentReturned")
            except ServicingError as refused:
                event(f"refused: {type(refused).__name__}")
                assert Event.objects.count() == count  # a refusal writes nothing
            _assert_not_negative(LoanPosition.objects.get(loan_id="L001"))
        assert account_balance(accounts.CUSTODIAL_CASH) == cash
        position = LoanPosition.objects.get(loan_id="L001")
        assert position.principal_balance_cents == account_balance(accounts.principal("L001"))
        assert differences() == []
        report = verify()
        assert report.ok, report.problems
        transaction.set_rollback(True)


def _assert_parts_sum_to_cash(payload, amount):
    if "application" in payload:
        a = payload["application"]
        applied = (a["interest_cents"] + a["principal_cents"] + a["curtailment_cents"] + a["escrow_cents"]
                   + a["late_charges_cents"] + a["fees_cents"] + a["to_suspense_cents"] - a["from_suspense_cents"])
    else:
        p = payload["payoff"]
        applied = (p["principal_cents"] + p["interest_cents"] + p["late_charges_cents"] + p["fees_cents"]
                   + p["escrow_advance_cents"] - p["escrow_applied_cents"] - p["suspense_applied_cents"]
                   + p["refund_to_borrower_cents"])
    assert applied == amount


def _assert_not_negative(position):
    for name in POSITION_AMOUNTS:
        assert getattr(position, name) >= 0, name
