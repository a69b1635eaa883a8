"""Every writer of a dated fact: its date checked without the log's lock, and what the dated rules read changed
before the append.

A liquidation, an escrow item, a pool removal (as a payment, test_payment_dates_race) check their date with
the dated-fact rules first (servicing.services.loan_events.dated_loan_fact, ledger.business_time.checked_fact),
then read the loan and work the event out, no lock held. If meanwhile another transaction forms a trust with
the loan at a cut-off on or after the fact's date, or closes the period a removal is dated in, the append, under
the log's lock, sees that an event those rules read was recorded since and asks them again: the fact is refused
as the first check would refuse it (same error, same words), nothing written. Anything else recorded meanwhile
leaves the fact to be recorded.
"""
from __future__ import annotations

import json
from datetime import date

import pytest

from ledger.models import Event
from ledger.verification import verify
from servicing.errors import DateRefused
from servicing.models import EscrowItem, LoanPosition
from servicing.services import default, escrow
from servicing.services.default import foreclosure_start, loan_liquidate
from servicing.services.escrow import escrow_item_add
from servicing.services.payments import payment_post
from tests.actors import TESTS
from tests.integration.remittance.months import close, seed_trust
from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.servicing.test_payment_file_concurrency import in_another_thread
from tests.integration.trusts.deals import TRUST, seed_deal
from trusts.errors import TrustError
from trusts.services import pool
from trusts.services.forming import deal_file_form
from trusts.services.pool import pool_loan_remove

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture
def books():
    """L001 to L012 boarded on 2026-01-15; XYZ-2026-1 formed from L001 to L010 at its cut-off 2026-01-15,
    its first collection period February 2026; L011 and L012 in no trust."""
    board(*seed_rows(12))
    seed_trust()


def forms(loan: str, *, code: str, cutoff: str, first_payment: str) -> None:
    """Another transaction, committed: a trust `code` formed with `loan` alone at `cutoff`."""
    deal = seed_deal(code=code, cutoff_date=cutoff, closing_date=cutoff, first_payment_date=first_payment,
                     loans=[loan], holders=[], classes=[{"name": "A", "face": "100000.00", "coupon": "net-wac"}])
    in_another_thread(lambda: deal_file_form(raw=json.dumps(deal).encode(), acting_user=TESTS))


def pays(loan: str, reference: str) -> None:
    """Another transaction, committed: a payment to `loan`, which no dated rule reads."""
    in_another_thread(lambda: payment_post(loan_number=loan, amount_cents=84_955, received_on=date(2026, 2, 1),
                                           reference=reference, acting_user=TESTS))


@pytest.fixture
def meanwhile(monkeypatch):
    """Actions run after the writer checked its date, before it appends (the log's lock not held yet): the
    writer's read of what it works the event out from (`name` in `module`) runs them first."""
    pending: list = []

    def between(module, name: str) -> None:
        real = getattr(module, name)

        def then_read(*args, **kwargs):
            while pending:
                pending.pop(0)()
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, then_read)

    return pending, between


def recorded(event_type: str) -> int:
    return Event.objects.filter(event_type=event_type).count()


def liquidate(loan: str) -> None:
    loan_liquidate(loan_number=loan, liquidated_on=date(2026, 9, 1), gross_proceeds_cents=5_000_000,
                   costs_cents=300_000, acting_user=TESTS)


def test_a_liquidation_is_refused_when_a_trust_formed_after_its_date_was_checked(books, meanwhile):
    pending, between = meanwhile
    between(default, "open_position")
    for loan in ("L011", "L012"):  # in no trust, 121 days delinquent
        foreclosure_start(loan_number=loan, started_on=date(2026, 6, 2), acting_user=TESTS)
    pending.append(lambda: forms("L011", code="ABC-2026-2", cutoff="2026-09-01", first_payment="2026-10-25"))
    with pytest.raises(DateRefused) as raced:
        liquidate("L011")
    assert str(raced.value) == (
        "loan L011: liquidation 2026-09-01: loan L011 went into trust ABC-2026-2 at its cut-off 2026-09-01; "
        "money received on or before 2026-09-01 is settled with the seller")
    assert recorded("LoanLiquidated") == 0 and LoanPosition.objects.get(loan_id="L011").status == "foreclosure"
    # The very refusal the first check gives now that the trust is there.
    with pytest.raises(DateRefused) as checked_first:
        liquidate("L011")
    assert str(checked_first.value) == str(raced.value)
    # Something no dated rule reads, meanwhile: the liquidation is recorded.
    pending.append(lambda: pays("L005", "OTHER"))
    liquidate("L012")
    assert recorded("LoanLiquidated") == 1 and LoanPosition.objects.get(loan_id="L012").status == "liquidated"
    assert verify().ok


def test_a_liquidation_is_recorded_when_the_trust_formed_meanwhile_is_cut_off_before_its_date(books, meanwhile):
    pending, between = meanwhile
    between(default, "open_position")
    foreclosure_start(loan_number="L011", started_on=date(2026, 6, 2), acting_user=TESTS)
    # Asked again (the pool moved), the rule still passes: the cut-off is before the sale, the loss the trust's.
    pending.append(lambda: forms("L011", code="ABC-2026-2", cutoff="2026-08-01", first_payment="2026-09-25"))
    liquidate("L011")
    assert recorded("LoanLiquidated") == 1
    assert verify().ok


def test_an_escrow_item_is_refused_when_a_trust_formed_after_its_date_was_checked(books, meanwhile):
    pending, between = meanwhile
    between(escrow, "open_position")

    def add(loan: str) -> None:
        escrow_item_add(loan_number=loan, kind="property_tax", payee="County", annual_amount_cents=300_000,
                        due_dates=["2026-03-01"], added_on=date(2026, 2, 1), acting_user=TESTS)

    pending.append(lambda: forms("L011", code="ABC-2026-2", cutoff="2026-03-01", first_payment="2026-04-25"))
    with pytest.raises(DateRefused) as raced:
        add("L011")
    assert str(raced.value) == (
        "loan L011: escrow item added on 2026-02-01: loan L011 went into trust ABC-2026-2 at its cut-off "
        "2026-03-01; money received on or before 2026-03-01 is settled with the seller")
    assert not EscrowItem.objects.filter(loan_id="L011").exists() and recorded("EscrowItemAdded") == 0
    with pytest.raises(DateRefused) as checked_first:
        add("L011")
    assert str(checked_first.value) == str(raced.value)
    pending.append(lambda: pays("L005", "OTHER"))
    add("L012")
    assert EscrowItem.objects.filter(loan_id="L012").exists()
    assert verify().ok


def test_a_removal_is_refused_when_its_period_closed_after_its_date_was_checked(books, meanwhile):
    pending, between = meanwhile
    between(pool, "_check_in_pool")

    def remove(loan: str, on: date):
        return pool_loan_remove(trust_code=TRUST, loan_number=loan, removed_on=on, kind="repurchase",
                                reason="breach of representations", acting_user=TESTS)

    pending.append(lambda: in_another_thread(lambda: close("2026-02")))
    with pytest.raises(TrustError) as raced:
        remove("L001", date(2026, 2, 15))
    assert str(raced.value) == (
        "loan L001 in trust XYZ-2026-1: removal 2026-02-15: trust XYZ-2026-1's period 2026-02 is closed and paid "
        "(through 2026-02-28); date it after 2026-02-28, in the open period")
    assert recorded("PoolLoanRemoved") == 0
    with pytest.raises(TrustError) as checked_first:
        remove("L001", date(2026, 2, 15))
    assert str(checked_first.value) == str(raced.value)
    pending.append(lambda: pays("L005", "OTHER"))
    remove("L002", date(2026, 3, 15))
    assert recorded("PoolLoanRemoved") == 1
    assert verify().ok
