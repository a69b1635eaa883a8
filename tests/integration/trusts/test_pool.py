"""Removing loans from a pool: repurchases and buyouts, refusals, re-pooling, replay, the command, races."""
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import Event
from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.services.payments import payment_post
from tests.integration.trusts.deals import TRUST, form, seed_deal, transfer
from tests.integration.trusts.races import race
from trusts.errors import TrustError
from trusts.models import PoolLoan
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db
FEB15 = date(2026, 2, 15)
# L001 on Feb 15 with no payment made: 100,000.00 at 6%, interest from Jan 1 (44 days on 30/360) is 733.33.
PAR, ACCRUED = 10_000_000, 73_333


def remove(loan_number="L001", removed_on=FEB15, kind="repurchase", reason="breach of representations",
           trust_code=TRUST):
    return pool_loan_remove(trust_code=trust_code, loan_number=loan_number, removed_on=removed_on, kind=kind,
                            reason=reason)


def removals() -> int:
    return Event.objects.filter(event_type="PoolLoanRemoved").count()


def test_a_repurchase_pays_par_plus_accrued_interest_into_the_trust(trust):
    event = remove()
    assert (event.stream, event.event_type, event.effective_date) == (f"trust:{TRUST}", "PoolLoanRemoved", FEB15)
    assert event.payload == {
        "loan_number": "L001", "kind": "repurchase", "reason": "breach of representations", "balance_cents": PAR,
        "proceeds_principal_cents": PAR, "proceeds_interest_cents": ACCRUED,
    }
    assert [(p.account, p.amount_cents) for p in event.postings] == [
        (f"trust:{TRUST}:cash", PAR + ACCRUED), ("clearing:repurchases", -(PAR + ACCRUED)),
    ]
    row = PoolLoan.objects.get(trust=trust, loan_id="L001")
    assert (row.removed_on, row.removal_reason) == (FEB15, "breach of representations")
    assert trust.pool.filter(removed_on__isnull=True).count() == 9
    assert account_balance(f"trust:{TRUST}:cash") == PAR + ACCRUED


def test_a_buyout_takes_the_balance_on_the_removal_date_from_the_ledger(trust):
    payment_post(loan_number="L002", amount_cents=84_955, received_on=date(2026, 2, 1), reference="I1")
    event = remove(loan_number="L002", removed_on=date(2026, 2, 20), kind="buyout", reason="  120 days delinquent ")
    p = event.payload
    assert (p["kind"], p["reason"]) == ("buyout", "120 days delinquent")
    # The February installment paid 99.55 of principal; interest then runs from Feb 1 (19 days).
    assert (p["balance_cents"], p["proceeds_principal_cents"], p["proceeds_interest_cents"]) == (
        9_990_045, 9_990_045, 31_635)
    assert sum(line.amount_cents for line in event.postings) == 0


@pytest.mark.parametrize("changes, message", [
    ({"trust_code": "NOPE"}, "unknown trust NOPE"),
    ({"loan_number": "L011"}, f"loan L011 is not in the pool of trust {TRUST}"),
    ({"kind": "sale"}, "removal kind 'sale' must be repurchase or buyout"),
    ({"reason": "  "}, "a removal needs a reason"),
    ({"reason": "x" * 201}, "the reason is 201 characters; keep it to 200"),
    ({"removed_on": date(2026, 1, 14)}, (f"loan L001 in trust {TRUST}: removal 2026-01-14: is before the loan was "
                                         "boarded on 2026-01-15")),
])
def test_refused_removals_record_nothing(trust, changes, message):
    with pytest.raises(TrustError, match=re.escape(message)):
        remove(**changes)
    assert removals() == 0 and not PoolLoan.objects.filter(removed_on__isnull=False).exists()


def test_a_loan_is_removed_once(trust):
    remove()
    with pytest.raises(TrustError, match=f"loan L001 was already removed from the pool of trust {TRUST} on 2026-02-15"):
        remove(kind="buyout", removed_on=date(2026, 3, 1))
    assert removals() == 1


def test_a_paid_off_loan_cannot_be_bought_out(trust):
    payment_post(loan_number="L001", amount_cents=PAR + ACCRUED, received_on=FEB15, reference="PO")
    with pytest.raises(TrustError, match="loan L001 is paid off"):
        remove(removed_on=date(2026, 2, 16))
    assert removals() == 0


def test_a_removed_loan_may_join_another_trust(trust):
    remove()
    other = form(seed_deal(code="ABC-2026-2", cutoff_date="2026-03-01", closing_date="2026-03-01",
                           first_payment_date="2026-04-25", loans=["L001", "L011"], holders=[],
                           classes=[{"name": "A", "face": "200000.00", "coupon": "net-wac"}]))
    assert list(PoolLoan.objects.filter(loan_id="L001").order_by("transferred_on")
                .values_list("trust__code", "removed_on")) == [(TRUST, FEB15), ("ABC-2026-2", None)]
    assert other.pool.count() == 2
    with pytest.raises(TrustError, match=f"loan L011 is not in the pool of trust {TRUST}"):
        remove(loan_number="L011")
    assert differences() == []


def test_a_replay_reproduces_the_pool_and_the_register(trust):
    transfer()
    transfer(from_holder="INV-03", to_holder="INV-04", settlement_date=date(2026, 3, 2))
    remove()
    remove(loan_number="L005", removed_on=date(2026, 3, 10), kind="buyout", reason="seriously delinquent")
    assert differences() == []
    report = verify()
    assert report.ok, report.problems


def test_remove_pool_loan_command(trust, capsys):
    call_command("remove_pool_loan", "--trust", TRUST, "--loan", "L001", "--on", "2026-02-15", "--kind", "repurchase",
                 "--reason", "breach of representations")
    out = capsys.readouterr().out
    assert f"removed loan L001 from {TRUST} on 2026-02-15 (repurchase: breach of representations" in out
    for text in ("unpaid principal       100,000.00", "principal   100,000.00", "interest        733.33",
                 "total       100,733.33"):
        assert text in out
    with pytest.raises(CommandError, match="loan L001 was already removed"):
        call_command("remove_pool_loan", "--trust", TRUST, "--loan", "L001", "--on", "2026-02-16",
                     "--kind", "buyout", "--reason", "again")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_removals_of_one_loan_record_one_event(trust):
    outcomes = race(lambda kind: remove(kind=kind), ["repurchase", "buyout"])
    assert sorted(outcomes) == ["done", f"loan L001 was already removed from the pool of trust {TRUST} on 2026-02-15"]
    assert removals() == 1
    assert differences() == [] and verify().ok
