"""Money and pool membership across trusts: each cent remitted once, by the trust that owned the loan.

Regressions of an independent trial: a removal dated inside a closed period was accepted (principal
passed twice, verify_ledger failing for good); a payment returned after its loan was repurchased
was charged to the loan's new trust, whose close it then blocked; a loan's money was remitted by
a second trust as well as the first. And a payment returned after its loan was repurchased left
the trust short: the buyer had paid par on the balance after it (now trued up).
"""
import re
from datetime import date

import pytest

from ledger.models import Event
from ledger.projections import differences
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from tests.actors import TESTS, payment_return, period_close
from servicing.return_hooks import register_return_hook, unregister_return_hook
from tests.integration.remittance.months import SEED_LOANS, close, pay, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST, form, seed_deal
from trusts.errors import TrustError
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db
OTHER = "ABC-2026-2"
MAR10 = date(2026, 3, 10)
# L001 after its February installment (99.55 of principal): the second trust's cut-off balance of it.
L001_AFTER_FEB = 10_000_000 - 9_955


def remove(loan_number: str, removed_on: date):
    return pool_loan_remove(trust_code=TRUST, loan_number=loan_number, removed_on=removed_on, kind="repurchase",
                            reason="breach of representations", acting_user=TESTS)


def second_trust(l001_cents: int = L001_AFTER_FEB):
    """L001 (removed from the seed's trust on Mar 10) and L011 in a second trust, cut off on Mar 10."""
    face = l001_cents + 10_000_000
    return form(seed_deal(code=OTHER, cutoff_date="2026-03-10", closing_date="2026-03-10",
                          first_payment_date="2026-04-25", loans=["L001", "L011"], holders=[],
                          classes=[{"name": "A", "face": f"{face // 100}.{face % 100:02d}", "coupon": "net-wac",
                                    "denomination": "0.01"}]))


def close_other(period: str):
    p = Period.parse(period)
    return period_close(trust_code=OTHER, period=p, as_of=p.next().first_day)


def test_a_removal_inside_a_closed_period_is_refused_and_one_in_the_open_period_is_paid_once(loans):
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    before = Event.objects.count()
    with pytest.raises(TrustError, match=re.escape(
            "loan L010 in trust XYZ-2026-1: removal 2026-02-20: trust XYZ-2026-1's period 2026-02 is closed and paid "
            "(through 2026-02-28); date it after 2026-02-28, in the open period")):
        remove("L010", date(2026, 2, 20))
    assert Event.objects.count() == before
    remove("L010", date(2026, 3, 5))
    pay_everyone("2026-03", loans=SEED_LOANS[:9])
    f = close("2026-03").result.period_closed
    assert f.collected["repurchase_principal"] == L001_AFTER_FEB and f.prior_period_cents == 0
    # Pass-through: the class stands at the pool after each close, so no principal was paid twice.
    a = f.classes[0]
    assert a.balance_end_cents == f.pool_balance_end_cents == 9 * (L001_AFTER_FEB - 10_005)
    report = verify()
    assert report.ok, report.problems


def test_a_second_trust_does_not_remit_money_that_belongs_to_the_first(loans):
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    pay("L001", Period.parse("2026-03"), day=5)  # in the first trust's pool on Mar 5
    remove("L001", MAR10)
    second_trust(L001_AFTER_FEB - 10_005)  # its March installment paid
    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    first = close("2026-03").result.period_closed
    other = close_other("2026-03").result.period_closed
    # The first trust remits L001's March installment (interest 499.50 on 99,900.45) with the others'.
    assert first.collected["interest"] == 10 * 49_950
    assert sum(other.collected.values()) == 0 and other.paid_to_holders_cents == 0
    report = verify()
    assert report.ok, report.problems


def test_a_payment_returned_after_a_repurchase_is_charged_to_the_trust_that_received_it(loans):
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")  # L001's February installment passed to the holders on Mar 25
    removal = remove("L001", MAR10)
    second_trust()
    returned = payment_return(loan_number="L001", reference="T-2026-02-L001", returned_on=date(2026, 3, 12),
                              reason="NSF", fee_cents=0).event
    # The buyer paid par on 99,900.45 and 39 days' interest from Feb 1 (649.35); had the payment never
    # been made it would have paid 100,000.00 and 69 days from Jan 1 (1,150.00): it owes the difference,
    # recorded with the return, on the first trust's stream.
    assert removal.payload["proceeds_interest_cents"] == 64_935
    trued = Event.objects.get(event_type="RemovalProceedsTrued")
    assert trued.stream == f"trust:{TRUST}" and trued.position == returned.position + 1
    assert trued.payload == {
        "loan_number": "L001", "kind": "repurchase", "removal_position": removal.position,
        "removed_on": "2026-03-10", "reference": "T-2026-02-L001",
        "returned_event_position": returned.payload["returned_event_position"],
        "return_position": returned.position, "returned_on": "2026-03-12",
        "principal_cents": 9_955, "interest_cents": 115_000 - 64_935}
    assert sorted((p.account, p.amount_cents) for p in trued.postings.all()) == [
        ("clearing:repurchases", -(9_955 + 50_065)), (f"trust:{TRUST}:cash", 9_955 + 50_065)]
    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    first = close("2026-03").result.period_closed
    # Netted against the first trust's next remittance, as a negative prior-period item:
    # 500.00 of interest and 99.55 of principal taken back from what its holders get.
    assert first.prior_period_cents == -59_955
    assert first.collected["interest"] == 9 * 49_950 - 50_000
    assert first.collected["scheduled_principal"] == 9 * 10_005 - 9_955
    # ...and the true-up counted as repurchase proceeds of the same close: the trust collected what it
    # would have had the payment never been made (par on 100,000.00 and 69 days' interest).
    assert first.collected["repurchase_principal"] == L001_AFTER_FEB + 9_955 == 10_000_000
    assert first.collected["repurchase_interest"] == 64_935 + 50_065 == 115_000
    a = first.classes[0]
    assert a.balance_end_cents == first.pool_balance_end_cents
    # The new owner is not charged: its close is not blocked and remits nothing of L001's February.
    other = close_other("2026-03").result.period_closed
    assert sum(other.collected.values()) == 0 and other.prior_period_cents == 0
    assert differences() == []
    report = verify()
    assert report.ok, report.problems


def test_a_payment_returned_after_a_repurchase_before_any_close_counted_it_nets_to_nothing(loans):
    """The March installment is paid, the loan removed and the payment returned, all in the open period:
    the close sees no payment, and proceeds as if the loan had been removed still owing March."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    pay("L001", Period.parse("2026-03"), day=5)
    removal = remove("L001", MAR10)
    # Par on 99,800.40 and 9 days' interest from Mar 1 (149.70).
    assert (removal.payload["balance_cents"], removal.payload["proceeds_interest_cents"]) == (
        L001_AFTER_FEB - 10_005, 14_970)
    payment_return(loan_number="L001", reference="T-2026-03-L001", returned_on=date(2026, 3, 12), reason="NSF",
                   fee_cents=0)
    trued = Event.objects.get(event_type="RemovalProceedsTrued").payload
    # Had it not been paid: par on 99,900.45 and 39 days from Feb 1 (649.35).
    assert (trued["principal_cents"], trued["interest_cents"]) == (10_005, 64_935 - 14_970)
    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    f = close("2026-03").result.period_closed
    assert f.prior_period_cents == 0
    assert f.collected["interest"] == 9 * 49_950
    assert f.collected["scheduled_principal"] == 9 * 10_005
    assert f.collected["repurchase_principal"] == L001_AFTER_FEB
    assert f.collected["repurchase_interest"] == 64_935
    assert f.classes[0].balance_end_cents == f.pool_balance_end_cents
    report = verify()
    assert report.ok, report.problems


def test_two_payments_returned_after_a_repurchase_true_up_to_proceeds_as_if_neither_was_made(loans):
    """Each true-up owes what the proceeds would have been without every payment returned so far, less
    what the buyer paid: the proceeds and the earlier true-ups."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    pay("L001", Period.parse("2026-03"), day=5)
    remove("L001", MAR10)  # par on 99,800.40 and 149.70 of interest
    for reference, day in (("T-2026-03-L001", 12), ("T-2026-02-L001", 13)):
        payment_return(loan_number="L001", reference=reference, returned_on=date(2026, 3, day), reason="NSF",
                       fee_cents=0)
    trued = [(e.payload["reference"], e.payload["principal_cents"], e.payload["interest_cents"])
             for e in Event.objects.filter(event_type="RemovalProceedsTrued").order_by("position")]
    assert trued == [("T-2026-03-L001", 10_005, 64_935 - 14_970), ("T-2026-02-L001", 9_955, 115_000 - 64_935)]
    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    f = close("2026-03").result.period_closed
    assert f.prior_period_cents == -59_955
    assert (f.collected["repurchase_principal"], f.collected["repurchase_interest"]) == (10_000_000, 115_000)
    assert f.classes[0].balance_end_cents == f.pool_balance_end_cents
    report = verify()
    assert report.ok, report.problems


def test_a_return_after_the_removals_period_closed_is_trued_up_in_the_next_close(loans):
    """Removed in March, March closed with the proceeds, the February payment returned in April: April's
    close takes the return back and counts the true-up, for a loan no longer in its pool."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    remove("L001", MAR10)
    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    close("2026-03")
    payment_return(loan_number="L001", reference="T-2026-02-L001", returned_on=date(2026, 4, 3), reason="NSF",
                   fee_cents=0)
    pay_everyone("2026-04", loans=SEED_LOANS[1:])
    f = close("2026-04").result.period_closed
    assert f.prior_period_cents == -59_955
    assert (f.collected["repurchase_principal"], f.collected["repurchase_interest"]) == (9_955, 50_065)
    assert f.classes[0].balance_end_cents == f.pool_balance_end_cents
    report = verify()
    assert report.ok, report.problems


def test_a_payment_returned_before_the_repurchase_needs_no_true_up(loans):
    """Returned first, removed after: the buyer paid par on the restored balance, so nothing is owed."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    payment_return(loan_number="L001", reference="T-2026-02-L001", returned_on=date(2026, 3, 5), reason="NSF",
                   fee_cents=0)
    removal = remove("L001", MAR10)
    assert (removal.payload["balance_cents"], removal.payload["proceeds_interest_cents"]) == (10_000_000, 115_000)
    assert not Event.objects.filter(event_type="RemovalProceedsTrued").exists()
    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    f = close("2026-03").result.period_closed
    assert f.prior_period_cents == -59_955
    assert (f.collected["repurchase_principal"], f.collected["repurchase_interest"]) == (10_000_000, 115_000)
    assert f.classes[0].balance_end_cents == f.pool_balance_end_cents
    report = verify()
    assert report.ok, report.problems


def test_a_true_up_that_cannot_be_recorded_leaves_the_return_unrecorded(loans):
    """The return and its true-up commit together or not at all."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    remove("L001", MAR10)
    before = Event.objects.count()

    def refuse(returned, original, acting_user):
        raise TrustError("the true-up failed")

    register_return_hook("tests.refuse", refuse)
    try:
        with pytest.raises(TrustError, match="the true-up failed"):
            payment_return(loan_number="L001", reference="T-2026-02-L001", returned_on=date(2026, 3, 12),
                           reason="NSF", fee_cents=0)
    finally:
        unregister_return_hook("tests.refuse")
    assert Event.objects.count() == before
    payment_return(loan_number="L001", reference="T-2026-02-L001", returned_on=date(2026, 3, 12), reason="NSF",
                   fee_cents=0)
    assert Event.objects.filter(event_type__in=("PaymentReturned", "RemovalProceedsTrued")).count() == 2


def test_a_return_after_its_period_was_paid_out_is_a_negative_prior_period_item_of_the_next_close(loans):
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    payment_return(loan_number="L002", reference="T-2026-02-L002", returned_on=date(2026, 3, 3), reason="NSF",
                   fee_cents=0)
    pay_everyone("2026-03", loans=[n for n in SEED_LOANS if n != "L002"])
    f = close("2026-03").result.period_closed
    assert f.prior_period_cents == -59_955
    assert f.collected["interest"] == 9 * 49_950 - 50_000
    report = verify()
    assert report.ok, report.problems
