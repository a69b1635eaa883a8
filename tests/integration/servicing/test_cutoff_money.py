"""Money dated on or before the cut-off of the trust a loan is in is the seller's: refused however it comes.

Regression of an independent trial: a curtailment received before a trust's cut-off but posted after
the trust was formed lowered the pool and was never remitted (the classes ended above the pool).
The rule is registered by the trusts app with ledger.business_time; the payment path applies it.
"""
import re
from datetime import date

import pytest

from ledger.models import Event
from servicing.errors import FileRejected
from servicing.services.payment_files import payment_file_import, payment_file_preview
from servicing.services.payment_requests import PaymentRefused
from servicing.services.payments import payment_post
from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.trusts.deals import form, seed_deal

pytestmark = pytest.mark.django_db
SELLERS = ("loan L001 went into trust XYZ-2026-1 at its cut-off 2026-01-20; money received on or before "
           "2026-01-20 is settled with the seller")


@pytest.fixture(autouse=True)
def pooled():
    """Ten loans boarded Jan 5; the seed's trust cut off on Jan 20."""
    board(*seed_rows(10), boarded_on=date(2026, 1, 5))
    form(seed_deal(cutoff_date="2026-01-20", closing_date="2026-01-20"))


def test_a_late_posted_curtailment_from_before_the_cut_off_is_refused():
    before = Event.objects.count()
    with pytest.raises(PaymentRefused, match=re.escape(f"loan L001: payment received 2026-01-18: {SELLERS}")):
        payment_post(loan_number="L001", amount_cents=1_000_000, received_on=date(2026, 1, 18), reference="CURT",
                     principal_only=True)
    assert Event.objects.count() == before


def test_a_payment_file_row_from_before_the_cut_off_is_reported_and_nothing_posts():
    raw = b"loan_number,received_on,amount,reference\nL002,2026-02-01,849.55,OK-1\nL001,2026-01-20,849.55,OLD-1\n"
    preview = payment_file_preview(raw=raw)
    assert [(p.line, p.reason) for p in preview.problems] == [
        (3, f"loan L001: payment received 2026-01-20: {SELLERS}")]
    before = Event.objects.count()
    with pytest.raises(FileRejected, match="line 3"):
        payment_file_import(raw=raw)
    assert Event.objects.count() == before
