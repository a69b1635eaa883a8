"""A payment's date checked without the log's lock, and what the dated rules read changed before the publish.

A payment file's rows are checked by the dated-fact rules at the preview, then
worked out with no lock held (servicing.services.payment_files). If meanwhile
another transaction forms a trust with one of the file's loans at a cut-off on
or after a row's date, or removes the loan from its pool on or after it, the
rules would now refuse that row: the publish, under the log's lock, sees that
an event they depend on was recorded since the preview and checks the rows
again, and the file is refused naming the row, nothing written. Anything else
recorded meanwhile leaves the file to post as it was worked out; a payment
posted on its own (`payment_post`) has the same window and the same answer.
"""
from __future__ import annotations

import json
from datetime import date

import pytest

from ledger.models import Event
from ledger.verification import verify
from servicing.errors import FileRejected
from servicing.models import LoanPosition
from servicing.services import payment_files, payments
from servicing.services.payment_files import payment_file_import
from servicing.services.payment_requests import PaymentRefused
from servicing.services.payments import payment_post
from tests.actors import TESTS
from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.servicing import test_payment_file_concurrency as concurrency
from tests.integration.servicing.test_payment_file_concurrency import in_another_thread, payment_file
from tests.integration.remittance.months import close, seed_trust
from tests.integration.trusts.deals import TRUST, seed_deal
from trusts.services.forming import deal_file_form
from trusts.services.pool import pool_loan_remove

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]
at_points = concurrency.at_points  # the fixture: a hook run at a named point of the test's own thread

# L011 and L012 are in no trust when the file is previewed; L001 is in XYZ-2026-1 (cut-off 2026-01-15).
FILE = payment_file(("L012", "2026-02-01", "849.55", "A-1"), ("L011", "2026-02-01", "849.55", "A-2"),
                    ("L001", "2026-02-01", "849.55", "A-3"))
OTHER_FILE = payment_file(("L005", "2026-02-01", "849.55", "B-1"))


def deal_of(loan: str, code: str = "ABC-2026-2", cutoff: str = "2026-03-01") -> bytes:
    """A deal taking `loan` alone at `cutoff`."""
    return json.dumps(seed_deal(code=code, cutoff_date=cutoff, closing_date=cutoff, first_payment_date="2026-04-25",
                                loans=[loan], holders=[],
                                classes=[{"name": "A", "face": "100000.00", "coupon": "net-wac"}])).encode()


def forms(loan: str, **deal) -> None:
    """Another transaction, committed: a trust formed with `loan` alone."""
    in_another_thread(lambda: deal_file_form(raw=deal_of(loan, **deal), acting_user=TESTS))


def removes(loan: str, removed_on: date) -> None:
    """Another transaction, committed: `loan` bought out of XYZ-2026-1 on `removed_on`."""
    in_another_thread(lambda: pool_loan_remove(trust_code=TRUST, loan_number=loan, removed_on=removed_on,
                                               kind="repurchase", reason="breach of representations",
                                               acting_user=TESTS))


def payments_recorded() -> int:
    return Event.objects.filter(event_type__in=("PaymentPosted", "LoanPaidOff")).count()


@pytest.fixture
def books():
    """L001 to L012 boarded on 2026-01-15; XYZ-2026-1 formed from L001 to L010 at its cut-off 2026-01-15,
    its first collection period February 2026."""
    board(*seed_rows(12))
    seed_trust()


POOL_RULE = "money on or before the loan's trust's cut-off is the seller's"  # trusts/apps.py
PERIOD_RULE = "no trust fact inside a closed period"  # remittance/apps.py


@pytest.fixture
def checks_again(monkeypatch):
    """Each check of the file's rows' dates: how many rows, by which rules (None: all; the preview's)."""
    calls = []
    real = payment_files.received_on_problems

    def counted(rows, only=None):
        calls.append((len(rows), only and set(only)))
        return real(rows, only=only)

    monkeypatch.setattr(payment_files, "received_on_problems", counted)
    return calls


def test_a_trust_formed_meanwhile_at_a_cutoff_on_the_rows_date_refuses_the_file(books, at_points, checks_again):
    plan, _ = at_points
    plan["import:chunk"] = [lambda: forms("L011")]  # the work-out done, nothing written, no lock held
    with pytest.raises(FileRejected) as rejected:
        payment_file_import(raw=FILE, acting_user=TESTS)
    assert [str(p) for p in rejected.value.problems] == [
        "line 3: loan L011: payment received 2026-02-01: loan L011 went into trust ABC-2026-2 at its cut-off "
        "2026-03-01; money received on or before 2026-03-01 is settled with the seller",
    ]
    # The preview's, and again under the lock by the rules reading the pool and the trusts, which moved since.
    assert checks_again == [(3, None), (3, {POOL_RULE, PERIOD_RULE})]
    assert payments_recorded() == 0  # nothing of the file, not even its good rows
    assert LoanPosition.objects.get(loan_id="L012").stream_version == 1
    assert verify().ok


def test_a_loan_removed_meanwhile_on_or_after_the_rows_date_refuses_the_file(books, at_points):
    plan, _ = at_points
    plan["import:chunk"] = [lambda: removes("L001", date(2026, 2, 15))]
    with pytest.raises(FileRejected) as rejected:
        payment_file_import(raw=FILE, acting_user=TESTS)
    assert [str(p) for p in rejected.value.problems] == [
        "line 4: loan L001: payment received 2026-02-01: loan L001 left trust XYZ-2026-1 on 2026-02-15 for its "
        "balance and accrued interest of that day; money received on or before 2026-02-15 is settled with the buyer",
    ]
    assert payments_recorded() == 0
    assert verify().ok


def test_a_trust_formed_meanwhile_with_other_loans_is_checked_and_the_file_posts(books, at_points, checks_again):
    plan, _ = at_points
    plan["import:chunk"] = [lambda: forms("L012", cutoff="2026-01-20")]  # before the row's 2026-02-01: its money
    result = payment_file_import(raw=FILE, acting_user=TESTS)
    assert [r.reference for r in result.posted] == ["A-1", "A-2", "A-3"]
    assert checks_again == [(3, None), (3, {POOL_RULE, PERIOD_RULE})]  # checked again: every row still holds
    assert payments_recorded() == 3
    assert verify().ok


def test_a_period_closed_meanwhile_is_asked_of_its_rule_only_and_the_file_posts(books, at_points, checks_again):
    """A payment dated inside a closed period is taken (a prior-period item): the closed-period rule is the
    trusts' facts' (a removal), asked again because it moved, and it refuses no payment."""
    plan, _ = at_points
    plan["import:chunk"] = [lambda: in_another_thread(lambda: close("2026-02"))]
    result = payment_file_import(raw=FILE, acting_user=TESTS)
    assert [r.reference for r in result.posted] == ["A-1", "A-2", "A-3"]
    assert checks_again == [(3, None), (3, {PERIOD_RULE})]  # the pool's rule not asked again: its answers stand
    assert payments_recorded() == 3
    assert verify().ok


def test_another_import_meanwhile_is_not_what_the_dates_depend_on_and_the_file_posts(books, at_points,
                                                                                     checks_again):
    plan, _ = at_points
    plan["import:chunk"] = [lambda: in_another_thread(lambda: payment_file_import(raw=OTHER_FILE,
                                                                                  acting_user=TESTS))]
    result = payment_file_import(raw=FILE, acting_user=TESTS)
    assert [r.reference for r in result.posted] == ["A-1", "A-2", "A-3"]
    assert checks_again == [(3, None), (1, None)]  # this preview, then the other file's: not again under the lock
    assert payments_recorded() == 4
    assert verify().ok


def test_a_payment_posted_alone_is_refused_when_a_trust_formed_after_its_date_was_checked(books, monkeypatch):
    real, meanwhile = payments.open_position, []

    def then_read(loan_number, **kwargs):
        """After the date was checked, before the append (the log's lock not held yet): what the test asks."""
        while meanwhile:
            meanwhile.pop()()
        return real(loan_number, **kwargs)

    monkeypatch.setattr(payments, "open_position", then_read)
    meanwhile.append(lambda: forms("L011"))
    with pytest.raises(PaymentRefused, match="loan L011 went into trust ABC-2026-2 at its cut-off 2026-03-01"):
        payment_post(loan_number="L011", amount_cents=84_955, received_on=date(2026, 2, 1), reference="ALONE",
                     acting_user=TESTS)
    assert payments_recorded() == 0
    # Something unrelated meanwhile (a payment to another loan): the payment posts.
    meanwhile.append(lambda: in_another_thread(lambda: payment_post(
        loan_number="L005", amount_cents=84_955, received_on=date(2026, 2, 1), reference="OTHER",
        acting_user=TESTS)))
    posted = payment_post(loan_number="L012", amount_cents=84_955, received_on=date(2026, 2, 1), reference="ALONE",
                          acting_user=TESTS)
    assert posted.event.event_type == "PaymentPosted"
    assert payments_recorded() == 2
    assert verify().ok
