"""Returned payments larger than a period's collections: recovered from later collections, never refusing a close.

`recover_returns` is the pure rule (remittance.domain.close_figures): returned interest from interest, returned
principal from principal, never one from the other; the rest carried to the next close, which
recovers it first, before the fee, the spread or any class.
"""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from remittance.domain.close_figures import Carried, close_figures, recover_returns
from remittance.domain.waterfall import ClassState
from tests.unit.remittance.test_closing import SEED_FACE, seed_loan

signed = st.integers(min_value=-5_000_000, max_value=5_000_000)
owed = st.integers(min_value=0, max_value=5_000_000)


@settings(max_examples=200, deadline=None)
@given(interest=signed, principal=signed, carried_i=owed, carried_p=owed)
def test_what_is_recovered_and_carried_accounts_for_every_cent(interest, principal, carried_i, carried_p):
    r = recover_returns(interest_cents=interest, principal_cents=principal, carried_in=(carried_i, carried_p))
    new = max(0, -interest) + max(0, -principal)
    assert r.new_cents == new
    assert r.recovered_cents + r.outstanding_cents == carried_i + carried_p + new
    assert min(r.interest_cents, r.principal_cents, r.recovered_cents, *r.outstanding) >= 0
    # The cash in: what the waterfall pays out plus what it recovers.
    cash = max(0, interest) + max(0, principal)
    assert r.interest_cents + r.principal_cents + r.recovered_cents == cash
    # The net: what the period nets, less carried in, plus carried out, is what is paid on.
    assert r.interest_cents + r.principal_cents == interest + principal - (carried_i + carried_p) + r.outstanding_cents
    # Nothing is paid out of a pot while it still owes anything.
    assert r.outstanding[0] == 0 or r.interest_cents == 0
    assert r.outstanding[1] == 0 or r.principal_cents == 0
    # Neither pot covers the other.
    assert r.interest_cents - r.outstanding[0] == interest - carried_i
    assert r.principal_cents - r.outstanding[1] == principal - carried_p


def test_interest_from_interest_principal_from_principal_and_never_one_from_the_other():
    r = recover_returns(interest_cents=10_000, principal_cents=3_000, carried_in=(4_000, 5_000))
    assert (r.interest_cents, r.principal_cents, r.outstanding, r.recovered_cents) == (6_000, 0, (0, 2_000), 7_000)
    r = recover_returns(interest_cents=1_000, principal_cents=9_000, carried_in=(4_000, 0))
    assert (r.interest_cents, r.principal_cents, r.outstanding) == (0, 9_000, (3_000, 0))
    r = recover_returns(interest_cents=-700, principal_cents=2_000, carried_in=(0, 500))
    assert (r.interest_cents, r.principal_cents, r.outstanding, r.new_cents) == (0, 1_500, (700, 0), 700)


def _close(loans, carried_in=(0, 0)):
    return close_figures(
        loans=loans, carried=Carried(classes=(ClassState(name="A", balance_cents=SEED_FACE, coupon=None),),
                                     returns_outstanding=carried_in),
        issuer_spread_rate=Decimal("0.6"), scheduled=False, original_faces={"A": SEED_FACE},
        holders={"A": {"INV-01": SEED_FACE}})


@settings(max_examples=100, deadline=None)
@given(interest=signed, principal=st.integers(-1_000_000, 1_000_000), carried_i=owed, carried_p=owed)
def test_a_close_with_returns_reconciles_and_pays_out_only_what_is_left(interest, principal, carried_i, carried_p):
    f = _close([seed_loan("L001", interest_cents=interest, scheduled_principal_cents=principal)],
               (carried_i, carried_p))  # close_figures checks its own reconciliation before returning
    r = f.returns
    w = f.waterfall
    paid = w.fee_paid_cents + w.spread_paid_cents + f.paid_to_holders_cents + f.excess_cents + f.retained_cents
    assert paid == r.interest_cents + r.principal_cents == f.cash_in_cents
    assert paid + r.recovered_cents == max(0, interest) + max(0, principal)
    assert f.servicer_remits_cents == interest + principal - r.carried_in_cents + r.outstanding_cents
