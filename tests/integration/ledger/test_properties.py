"""Property: any sequence of balanced batches keeps the sum of all postings at zero."""
import pytest
from datetime import date
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.db import transaction
from django.db.models import Sum

from ledger.models import AccountBalance, Posting
from ledger.projections import differences
from ledger.domain.records import NewEvent, PostingLine, StreamAppend
from ledger.services import append_batch
from tests.actors import TESTS

ACCOUNTS = ["loan:L1:principal", "loan:L2:interest", "trust:T:custodial", "servicer:fee_income", "holder:H1:cash"]


@st.composite
def balanced_event(draw):
    legs = draw(st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.integers(-10**9, 10**9).filter(bool)),
                         min_size=1, max_size=4))
    balance = -sum(amount for _, amount in legs)
    lines = [PostingLine(a, n) for a, n in legs] + ([PostingLine("suspense:plug", balance)] if balance else [])
    day = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
    return NewEvent("AmountsMoved", {"legs": len(lines)}, day, tuple(lines))


batches = st.lists(
    st.lists(st.tuples(st.sampled_from(["loan:L1", "loan:L2", "trust:T"]), st.lists(balanced_event(), min_size=1,
                                                                                     max_size=3)),
             min_size=1, max_size=3, unique_by=lambda t: t[0]),
    min_size=1, max_size=4,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches)
def test_balanced_batches_keep_the_global_sum_at_zero(batch_list):
    with transaction.atomic():
        for batch in batch_list:
            append_batch(appends=[StreamAppend(stream, None, tuple(events)) for stream, events in batch],
                         acting_user=TESTS)
        assert Posting.objects.aggregate(total=Sum("amount_cents"))["total"] == 0
        assert AccountBalance.objects.aggregate(total=Sum("balance_cents"))["total"] == 0
        assert differences() == []
        transaction.set_rollback(True)
