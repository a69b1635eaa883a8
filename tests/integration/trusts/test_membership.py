"""Pool membership as non-overlapping date intervals (transferred_on, removed_on]: the services' checks
and PostgreSQL's exclusion constraint.

Regressions of an independent trial: a loan removed from one trust joined a second whose cut-off
was before the removal (one payment remitted by both); a removal dated in the future was accepted
with invented accrued interest; money received before a trust's cut-off but posted after forming
lowered the pool and was never remitted.
"""
import re
from datetime import date

import pytest
from django.db import IntegrityError, transaction

from ledger.business_time import business_day
from ledger.models import Event
from ledger.selectors import account_balance
from servicing.domain import accounts
from tests.actors import TESTS
from servicing.services.payment_requests import PaymentRefused
from servicing.services.payments import payment_post
from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.trusts.deals import TRUST, form, seed_deal
from trusts.errors import DealRejected, TrustError
from trusts.models import PoolLoan, Trust
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db
FEB15 = date(2026, 2, 15)
OTHER = "ABC-2026-2"


def remove(loan_number="L001", removed_on=FEB15):
    return pool_loan_remove(trust_code=TRUST, loan_number=loan_number, removed_on=removed_on, kind="repurchase",
                            reason="breach of representations", acting_user=TESTS)


def other_deal(cutoff: str, loans=("L001", "L011")):
    """A second trust of L001 (once removed) and L011: 200,000.00 of class A, net-wac."""
    return seed_deal(code=OTHER, cutoff_date=cutoff, closing_date=cutoff, first_payment_date="2026-04-25",
                     loans=list(loans), holders=[], classes=[{"name": "A", "face": "200000.00", "coupon": "net-wac"}])


def test_a_second_trust_cannot_take_a_loan_from_before_its_removal(trust):
    remove()
    before = Event.objects.count()
    with pytest.raises(DealRejected) as refused:
        form(other_deal("2026-02-01"))
    assert refused.value.problems == [
        "loans: loan L001 was in trust XYZ-2026-1 until its removal on 2026-02-15; this trust's cut-off "
        "2026-02-01 must be on or after that date (money up to the removal belongs to the other trust)"]
    assert Event.objects.count() == before and not Trust.objects.filter(code=OTHER).exists()


def test_a_second_trust_may_take_the_loan_from_its_removal_date(trust):
    remove()
    form(other_deal("2026-02-15"))
    assert list(PoolLoan.objects.filter(loan_id="L001").order_by("transferred_on")
                .values_list("trust__code", "transferred_on", "removed_on")) == [
        (TRUST, date(2026, 1, 15), FEB15), (OTHER, FEB15, None)]


def test_a_removal_dated_in_the_future_is_refused(trust):
    before = Event.objects.count()
    with business_day(date(2026, 2, 10)):
        with pytest.raises(TrustError, match=re.escape(
                "loan L001 in trust XYZ-2026-1: removal 2026-02-15 is in the future (today is 2026-02-10)")):
            remove()
        remove(removed_on=date(2026, 2, 10))  # today itself is fine
    assert Event.objects.count() == before + 1


def test_a_removal_date_must_be_a_date(trust):
    with pytest.raises(TrustError, match=r"^loan L001 in trust XYZ-2026-1: removal must be a date"):
        remove(removed_on="2026-02-15")
    assert not Event.objects.filter(event_type="PoolLoanRemoved").exists()


def test_money_received_on_or_before_the_cut_off_is_the_sellers():
    """Loans boarded Jan 5, pooled at a Jan 15 cut-off; a Jan 10 curtailment posted afterwards is refused."""
    board(*seed_rows(10), boarded_on=date(2026, 1, 5))
    form(seed_deal())
    pool_before = account_balance(accounts.principal("L001"), as_of=date(2026, 1, 15))
    before = Event.objects.count()
    for received_on in (date(2026, 1, 10), date(2026, 1, 15)):
        with pytest.raises(PaymentRefused, match=re.escape(
                f"loan L001: payment received {received_on.isoformat()}: loan L001 went into trust XYZ-2026-1 "
                "at its cut-off 2026-01-15; money received on or before 2026-01-15 is settled with the seller")):
            payment_post(loan_number="L001", amount_cents=500_000, received_on=received_on, reference=f"C{received_on}",
                         principal_only=True, acting_user=TESTS)
    assert Event.objects.count() == before
    # The pool still stands at the classes' face: the cut-off balance did not move.
    assert account_balance(accounts.principal("L001"), as_of=date(2026, 1, 15)) == pool_before == 10_000_000
    # The day after the cut-off the money is the trust's.
    payment_post(loan_number="L001", amount_cents=500_000, received_on=date(2026, 1, 16), reference="C-16",
                 principal_only=True, acting_user=TESTS)
    assert Event.objects.count() == before + 1


def test_a_loan_in_no_trust_takes_money_of_any_past_date(loans):
    payment_post(loan_number="L011", amount_cents=84_955, received_on=date(2026, 1, 15), reference="FREE",
                 acting_user=TESTS)
    assert Event.objects.filter(idempotency_key="payment:FREE").exists()


@pytest.mark.postgres_only
def test_the_database_refuses_overlapping_memberships_written_directly(trust):
    # L011 is in no pool; two memberships written by hand, bypassing the services.
    PoolLoan.objects.create(trust=trust, loan_id="L011", cutoff_balance_cents=1, price_cents=1,
                            transferred_on=date(2026, 1, 15), removed_on=date(2026, 3, 1))
    for transferred_on, removed_on in ((date(2026, 2, 1), date(2026, 2, 20)), (date(2026, 2, 28), None)):
        with pytest.raises(IntegrityError, match="pool_loan_membership_no_overlap"), transaction.atomic():
            PoolLoan.objects.create(trust=trust, loan_id="L011", cutoff_balance_cents=1, price_cents=1,
                                    transferred_on=transferred_on, removed_on=removed_on)
    # Adjacent is not overlapping: in through Mar 1, in the next pool from Mar 2 (its cut-off Mar 1).
    PoolLoan.objects.create(trust=trust, loan_id="L011", cutoff_balance_cents=1, price_cents=1,
                            transferred_on=date(2026, 3, 1), removed_on=None)
    assert PoolLoan.objects.filter(loan_id="L011").count() == 2


@pytest.mark.postgres_only
def test_the_migration_names_overlaps_already_on_the_books(trust):
    """Books written before the rule: migration 0002 lists each overlap instead of failing on a raw row."""
    from importlib import import_module

    from django.db import connection

    migration = import_module("trusts.migrations.0002_pool_membership_intervals")
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(f"ALTER TABLE trusts_poolloan DROP CONSTRAINT {migration.CONSTRAINT}")
    PoolLoan.objects.create(trust=trust, loan_id="L011", cutoff_balance_cents=1, price_cents=1,
                            transferred_on=date(2026, 1, 15), removed_on=date(2026, 3, 1))
    PoolLoan.objects.create(trust=trust, loan_id="L011", cutoff_balance_cents=1, price_cents=1,
                            transferred_on=date(2026, 2, 1), removed_on=None)
    with pytest.raises(RuntimeError, match=re.escape(
            "1 pool membership(s) overlap another of the same loan; one borrower payment would belong to two "
            "trusts. Resolve them before migrating:\n  loan L011: trust XYZ-2026-1 (2026-01-15, 2026-03-01] and "
            "trust XYZ-2026-1 (2026-02-01, open]")):
        with connection.schema_editor(atomic=False) as editor:
            migration.add_constraint(None, editor)


def test_money_dated_up_to_a_removal_and_posted_after_it_is_the_buyers(trust):
    """The proceeds were the balance and accrued interest of the removal day: a late payment would pay twice."""
    remove()
    before = Event.objects.count()
    for received_on in (date(2026, 2, 1), FEB15):
        with pytest.raises(PaymentRefused, match=re.escape(
                f"loan L001: payment received {received_on.isoformat()}: loan L001 left trust XYZ-2026-1 on "
                "2026-02-15 for its balance and accrued interest of that day; money received on or before "
                "2026-02-15 is settled with the buyer")):
            payment_post(loan_number="L001", amount_cents=84_955, received_on=received_on,
                         reference=f"LATE{received_on}", acting_user=TESTS)
    assert Event.objects.count() == before
    payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 16), reference="BUYERS",
                 acting_user=TESTS)
    assert Event.objects.count() == before + 1
